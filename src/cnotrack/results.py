"""Results that carry their method: a number with its denominator, missing count and how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CountResult", "DistributionResult", "EndpointResult", "ProportionResult", "percent"]


def percent(n: int, of: int) -> str:
    return "n/a" if of == 0 else f"{100 * n / of:.1f}%"


@dataclass(frozen=True)
class ProportionResult:
    id: str
    label: str
    n: int
    of: int
    missing: int
    method: str
    published: str | None = None
    among_missing: int = 0
    ci95: tuple[float, float] | None = None
    ci_method: str | None = None

    kind = "proportion"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "of": self.of, "missing": self.missing}
        known = self.of - self.missing
        out["percent"] = None if self.of == 0 else round(100 * self.n / self.of, 1)
        out["percent_of_known"] = None if known == 0 else round(100 * self.n / known, 1)
        if self.ci95 is not None:
            out["ci95"] = [self.ci95[0], self.ci95[1]]
            out["ci_method"] = self.ci_method
        return out

    def short(self) -> str:
        text = f"{self.n} of {self.of} patients ({percent(self.n, self.of)})"
        if self.missing:
            text += f", {self.missing} with missing data"
        return text

    def sentence(self) -> str:
        return f"{self.label}: {self.short()}."


@dataclass(frozen=True)
class CountResult:
    id: str
    label: str
    value: int
    method: str
    published: str | None = None
    of_id: str | None = None
    of_value: int | None = None
    missing: int = 0

    kind = "count"

    def as_json(self) -> int:
        return self.value

    def short(self) -> str:
        return str(self.value)

    def percent(self) -> str:
        return percent(self.value, self.of_value) if self.of_value is not None else "n/a"

    def sentence(self) -> str:
        text = f"{self.label}: {self.value}"
        if self.of_value is not None:
            text += f" of {self.of_value} ({self.percent()})"
        return text + "."


@dataclass(frozen=True)
class DistributionResult:
    id: str
    label: str
    n: int
    missing: int
    median: float | None
    minimum: float | None
    maximum: float | None
    q1: float | None
    q3: float | None
    method: str
    unit: str = ""
    published: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    kind = "distribution"

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "median": self.median, "min": self.minimum, "max": self.maximum,
                "q1": self.q1, "q3": self.q3, "missing": self.missing, "unit": self.unit}

    def short(self) -> str:
        if self.n == 0:
            return "no values"
        unit = f" {self.unit}" if self.unit else ""
        return (f"median {self.median:.1f}{unit} (IQR {self.q1:.1f} to {self.q3:.1f}; "
                f"range {self.minimum:.1f} to {self.maximum:.1f}; n = {self.n})")

    def sentence(self) -> str:
        return f"{self.label}: {self.short()}."


EndpointResult = ProportionResult | CountResult | DistributionResult
