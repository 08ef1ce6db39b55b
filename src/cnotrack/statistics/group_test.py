"""The result of a comparison of independent groups: ``GroupTest``.

One shape for every group test (Fisher's exact, Mann-Whitney, log-rank, Kruskal-Wallis,
chi-squared): the groups and their sizes, the statistic R prints with its name and degrees
of freedom, the p value, the estimate with its 95% interval where R gives one, the method
(naming the R function and the rule used), a summary per group and notes. ``p_value`` is
``None`` when no test can be made (an empty group, every value equal, no event), and a note
says why; a p value is never made up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .paired import _number, format_p
from ..words import noun

__all__ = ["GroupTest"]

FISHER = "fisher_exact"
MANN_WHITNEY = "mann_whitney"
LOG_RANK = "log_rank"
KRUSKAL_WALLIS = "kruskal_wallis"
CHI_SQUARED = "chi_squared"

NAMES = {FISHER: "Fisher's exact test", MANN_WHITNEY: "Mann-Whitney U test", LOG_RANK: "log-rank test",
         KRUSKAL_WALLIS: "Kruskal-Wallis test", CHI_SQUARED: "chi-squared test"}


@dataclass(frozen=True)
class GroupTest:
    """A test comparing independent groups, with what it used and what it found.

    ``groups`` are the group labels in order and ``sizes`` the patients used in each;
    ``missing`` the patients of each group left out for a missing value. ``per_group`` holds
    one dict per group: ``yes``/``percent`` (proportions), ``median``/``q1``/``q3`` (R's
    default quantiles) for values, ``observed``/``expected`` events for the log-rank test.
    """

    test: str
    variable: str
    groups: tuple[str, ...]
    sizes: tuple[int, ...]
    p_value: float | None
    method: str
    statistic_name: str | None = None
    statistic: float | None = None
    df: int | None = None
    estimate_name: str | None = None
    estimate: float | None = None
    ci95: tuple[float, float] | None = None
    missing: tuple[int, ...] = ()
    per_group: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {
            "test": self.test, "variable": self.variable, "groups": list(self.groups),
            "sizes": list(self.sizes), "missing": list(self.missing),
            "statistic_name": self.statistic_name, "statistic": _json_float(self.statistic), "df": self.df,
            "p_value": self.p_value, "estimate_name": self.estimate_name,
            "estimate": _json_float(self.estimate),
            "ci95": [_json_float(x) for x in self.ci95] if self.ci95 else None,
            "per_group": [dict(g) for g in self.per_group], "method": self.method,
            "notes": list(self.notes), "sentence": self.sentence(),
        }

    def sentence(self) -> str:
        """The result in words, e.g. "PGA none or minimal: anakinra 5 of 9 (55.6%), TNF
        inhibitors 2 of 8 (25.0%) (Fisher's exact test, odds ratio 3.46, 95% CI 0.34 to 54.29,
        p = 0.335)"."""
        parts = ", ".join(self._group_words(g) for g in self.per_group)
        name = NAMES.get(self.test, self.test)
        if self.p_value is None:
            why = self.notes[0] if self.notes else "no test could be made"
            return f"{self.variable}: {parts} ({name} not made: {why})"
        stat = ""
        if self.statistic is not None and self.statistic_name:
            stat = f", {self.statistic_name} = {_number(round(self.statistic, 2))}"
            if self.df is not None:
                stat += f" on {self.df} df"
        estimate = ""
        if self.estimate is not None and self.estimate_name:
            estimate = f", {self.estimate_name} {_short(self.estimate)}"
            if self.ci95:
                estimate += f", 95% CI {_short(self.ci95[0])} to {_short(self.ci95[1])}"
        return f"{self.variable}: {parts} ({name}{stat}{estimate}, {format_p(self.p_value)})"

    def _group_words(self, g: dict[str, Any]) -> str:
        if "yes" in g:
            percent = "" if g["n"] == 0 else f" ({100 * g['yes'] / g['n']:.1f}%)"
            return f"{g['group']} {g['yes']} of {g['n']}{percent}"
        if "observed" in g:
            event = noun(g["observed"], "event")
            return (f"{g['group']} {_number(g['observed'])} {event} ({_short(g['expected'])} expected) "
                    f"among {g['n']}")
        if g.get("median") is None:
            return f"{g['group']} no values"
        return (f"{g['group']} median {_short(g['median'])} (IQR {_short(g['q1'])} to {_short(g['q3'])}, "
                f"n = {g['n']})")


def _short(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x == float("inf"):
        return "infinity"
    return _number(round(float(x), 2))


def _json_float(x: float | None) -> float | str | None:
    """JSON has no infinity: an infinite odds ratio is written ``"Inf"`` (R prints ``Inf``)."""
    if x is None:
        return None
    return "Inf" if x == float("inf") else float(x)
