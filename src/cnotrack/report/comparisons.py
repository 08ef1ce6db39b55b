"""Group comparisons in the report: per ``compare`` entry, a table with a row per endpoint
(each group's value and the test between the groups with its p value), and for each
time-to-event endpoint the Kaplan-Meier curves of the groups (with numbers at risk per group).

The numbers come from ``Evaluation.comparisons`` (``cnotrack.engine.groups``); nothing is
computed here but the layout.
"""

from __future__ import annotations

from typing import Any

from ..render.comparisons import by_words, comparison_header, comparison_notes, comparison_rows
from ..results import ComparisonResult, TimeToEventResult
from .model import ReportTable

__all__ = ["comparison_curves", "comparison_table", "comparison_tables"]


def comparison_table(comparison: ComparisonResult, labels: dict[str, str]) -> ReportTable:
    """The endpoints of ``comparison`` per group: one row per endpoint, a column per group
    (headed with its label and n), then the test and its p value."""
    return ReportTable(f"comparison-{comparison.key}", f"Outcomes {by_words(comparison)}",
                       comparison_header(comparison), tuple(comparison_rows(comparison, labels)),
                       notes=tuple(comparison_notes(comparison)))


def comparison_tables(evaluation) -> list[ReportTable]:
    """One table per comparison of the evaluation, in the protocol's order."""
    labels = {r.id: r.label for r in evaluation.endpoints.values()}
    return [comparison_table(c, labels) for c in getattr(evaluation, "comparisons", {}).values()]


def _curve(result: TimeToEventResult, label: str) -> dict[str, Any]:
    """A time-to-event result as the curve ``km_svg`` draws (as ``SurvivalResult.plot_curve``)."""
    steps = [p for p in result.curve if p["time_years"] == 0 or p["events"] > 0]
    censor = [p["time_years"] for p in result.curve for _ in range(p["censored"])]
    rows = ([[0.0, result.n]] if result.n else []) + [[r["time_years"], r["n_risk"]] for r in result.at_risk]
    return {"label": label, "times": [p["time_years"] for p in steps], "survival": [p["survival"] for p in steps],
            "censor_times": censor, "at_risk": rows}


def comparison_curves(comparison: ComparisonResult) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Per time-to-event endpoint of ``comparison``: (endpoint id, label, one curve per group
    with patients), for the per-group Kaplan-Meier figure."""
    out = []
    for eid, grouped in comparison.endpoints.items():
        results = [(g, grouped.groups.get(g["id"])) for g in comparison.groups]
        curves = [_curve(r, g["label"]) for g, r in results if isinstance(r, TimeToEventResult) and r.n]
        if curves:
            label = next(r.label for _, r in results if isinstance(r, TimeToEventResult))
            out.append((eid, label, curves))
    return out
