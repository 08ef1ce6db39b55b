"""Group comparisons as rows of text: per ``compare`` entry a row per endpoint with each group's
value and the test between the groups with its p value. The terminal, Markdown and the report
(``cnotrack.report.comparisons``) lay these rows out; the numbers come from
``Evaluation.comparisons`` (``cnotrack.engine.groups``)."""

from __future__ import annotations

from typing import Any

from ..results import ComparisonResult, GroupedEndpoint
from ..statistics.group_test import NAMES
from .text import result_cell
from ..words import counted

__all__ = ["TESTS_NOTE", "by_words", "comparison_header", "comparison_notes", "comparison_rows", "test_cell"]

TESTS_NOTE = ("Tests between the groups: Fisher's exact test for proportions, Mann-Whitney U (Wilcoxon "
              "rank-sum) for values, log-rank for time to event; two-sided.")


def by_words(comparison: ComparisonResult) -> str:
    """The grouping in words after "Outcomes" or a figure's title: "by sex" (a label "By sex"
    or "sex" alike)."""
    label = comparison.label.strip()
    if label[:3].lower() == "by ":
        return "by " + label[3:]
    return "by " + label


def _test(test: Any) -> dict[str, Any] | None:
    return test.as_json() if hasattr(test, "as_json") else test


def test_cell(grouped: GroupedEndpoint) -> tuple[str, str]:
    """(the test's name, its p value as "0.335" or "< 0.001") of one endpoint, or ("none: <why>", "—")."""
    test = _test(grouped.test)
    if test is None or test.get("p_value") is None:
        why = grouped.note or ((test or {}).get("notes") or [None])[0]
        return (f"none: {why}" if why else "none"), "—"
    p = test["p_value"]
    return NAMES.get(test["test"], test["test"]), ("< 0.001" if p < 0.001 else f"{p:.3f}")


def comparison_header(comparison: ComparisonResult) -> tuple[str, ...]:
    return ("Outcome", *(f"{g['label']} (n = {g['n']})" for g in comparison.groups), "Test", "p")


def comparison_rows(comparison: ComparisonResult, labels: dict[str, str]) -> list[tuple[str, ...]]:
    """A row per endpoint: its label, each group's value (as the outcomes table shows it), the
    test and its p value."""
    rows = []
    for eid, grouped in comparison.endpoints.items():
        label = labels.get(eid, eid)
        cells = [result_cell(grouped.groups[g["id"]]) if g["id"] in grouped.groups else "—"
                 for g in comparison.groups]
        rows.append((label[:1].upper() + label[1:], *cells, *test_cell(grouped)))
    return rows


def comparison_notes(comparison: ComparisonResult) -> list[str]:
    """The patients in no compared group (with why), and the tests used."""
    notes = []
    if comparison.ungrouped:
        notes.append(f"{counted(len(comparison.ungrouped), 'eligible patient')} in no compared group: "
                     + "; ".join(f"{u['patient_id']} ({u['reason']})" for u in comparison.ungrouped) + ".")
    return notes + [TESTS_NOTE]
