"""Results that carry their method: a number with its denominator, missing count and how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .words import counted, verb

__all__ = ["ComparisonResult", "CountResult", "DistributionResult", "EndpointResult", "GroupedEndpoint",
           "ProportionResult", "TimeToEventResult", "percent"]


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

    @property
    def not_known(self) -> bool:
        """Whether the endpoint is missing for every patient (then it has no value and no CI)."""
        return self.of > 0 and self.missing >= self.of

    def short(self) -> str:
        if self.not_known:
            return f"not known for any of the {self.of} {'patient' if self.of == 1 else 'patients'}"
        text = f"{self.n} of {self.of} {'patient' if self.of == 1 else 'patients'} ({percent(self.n, self.of)})"
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
    #: lesions of the earlier study not assessed at the later one (exchange format 1.1): in no
    #: fate and out of ``of_value``
    missing_lesions: int = 0

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
        if self.missing_lesions:
            text += (f"; {self.missing_lesions} {'lesion' if self.missing_lesions == 1 else 'lesions'} not assessed, "
                     "counted as missing")
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
        out = {"n": self.n, "median": self.median, "min": self.minimum, "max": self.maximum,
               "q1": self.q1, "q3": self.q3, "missing": self.missing, "unit": self.unit}
        if "test" in self.extra:  # a change's paired test of from vs to (v1 JSON has none)
            out["test"] = self.extra["test"]
        return out

    def short(self) -> str:
        if self.n == 0 and self.missing:
            return f"not known for any of the {self.missing} {'patient' if self.missing == 1 else 'patients'}"
        if self.n == 0:
            return "no values"
        unit = f" {self.unit}" if self.unit else ""
        return (f"median {self.median:.1f}{unit} (IQR {self.q1:.1f} to {self.q3:.1f}; "
                f"range {self.minimum:.1f} to {self.maximum:.1f}; n = {self.n})")

    def sentence(self) -> str:
        """The result; for a change, with its paired test (``extra["test"]``): "...; ESR fell
        from a median of 33 mm/h ... (Wilcoxon signed-rank, 9 pairs, V = 41, p = 0.027)."."""
        test = self.extra.get("test") if isinstance(self.extra, dict) else None
        if test and test.get("sentence"):
            return f"{self.label}: {self.short()}; {test['sentence']}."
        return f"{self.label}: {self.short()}."


def _years(x: float | None) -> str:
    return "not reached" if x is None else f"{x:.1f}"


@dataclass(frozen=True)
class TimeToEventResult:
    """A time-to-event endpoint: the Kaplan-Meier analysis of ``tte.<id>.days``/``.event``.

    ``median_ci95`` is ``(lower, upper)`` in years, ``None`` where not reached; ``at_risk`` and
    ``curve`` are the rows of ``cnotrack.statistics.survival.SurvivalResult``; ``subjects``
    lists ``patient_id``, ``days``, ``event`` of the patients analysed and
    ``excluded_patients`` ``patient_id``, ``reason`` of those left out (``excluded`` of them).
    """

    id: str
    label: str
    method: str
    n: int
    events: int
    censored: int
    excluded: int
    median_years: float | None
    median_ci95: tuple[float | None, float | None]
    at_risk: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    published: str | None = None
    subjects: list[dict[str, Any]] = field(default_factory=list)
    excluded_patients: list[dict[str, Any]] = field(default_factory=list)

    kind = "time_to_event"

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "events": self.events, "censored": self.censored, "excluded": self.excluded,
                "median_years": self.median_years, "median_ci95": list(self.median_ci95),
                "at_risk": self.at_risk, "curve": self.curve, "excluded_patients": self.excluded_patients}

    def short(self) -> str:
        if self.n == 0:
            return "no patients to analyse"
        events = f"{counted(self.events, 'event')} in {counted(self.n, 'patient')}"
        if self.median_years is None:
            return f"median not reached; {events}"
        low, high = self.median_ci95
        return (f"median {_years(self.median_years)} years (95% CI {_years(low)} to {_years(high)}); "
                f"{events}")

    def sentence(self) -> str:
        text = f"{self.label}: {self.short()} (Kaplan-Meier)"
        if self.excluded:
            text += f"; {counted(self.excluded, 'patient')} {verb(self.excluded, 'was')} left out"
        return text + "."


EndpointResult = ProportionResult | CountResult | DistributionResult | TimeToEventResult


@dataclass(frozen=True)
class GroupedEndpoint:
    """One endpoint computed in each group of a comparison, with the test between the groups
    (a ``cnotrack.statistics.two_group.GroupTest``, or its JSON dict) or a ``note`` saying why
    there is none."""

    endpoint: str
    groups: dict[str, EndpointResult]
    test: Any = None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        test = self.test.as_json() if hasattr(self.test, "as_json") else self.test
        return {"groups": {g: r.as_json() for g, r in self.groups.items()}, "test": test, "note": self.note}


@dataclass(frozen=True)
class ComparisonResult:
    """Every endpoint per group of one ``compare`` entry: ``groups`` in order (``id``,
    ``label``, ``n``), the eligible patients in no compared group with the reason
    (``ungrouped``: ``patient_id``, ``reason``) and per endpoint its ``GroupedEndpoint``."""

    key: str
    label: str
    by: str
    groups: list[dict[str, Any]]
    ungrouped: list[dict[str, Any]]
    endpoints: dict[str, GroupedEndpoint]

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "by": self.by, "groups": self.groups, "ungrouped": self.ungrouped,
                "endpoints": {k: e.as_json() for k, e in self.endpoints.items()}}
