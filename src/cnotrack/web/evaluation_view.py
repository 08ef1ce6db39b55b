"""What the evaluation page shows of an ``Evaluation``, as plain text for its template.

- ``endpoint_rows``: per endpoint its result as the terminal shows it (``render.text.result_cell``)
  and a ``detail`` line: for a distribution with a paired test (``extra["test"]``) the test's
  sentence; for a time-to-event endpoint how it was analysed (Kaplan-Meier, the censored
  patients, and the patients left out counted per reason).
- ``comparison_tables``: per ``compare`` entry its header and rows (``render.comparisons``,
  the same rows as the CLI and the report), the patients in no compared group counted per
  reason, and the note on the tests.
- ``not_run``: the analyses that could not run (``render.text.analyses_not_run``).

Every value is text for an autoescaped template: nothing from the data or a protocol is markup.
The page shows only what the evaluation holds, and the web evaluates on the patients the user
may see (``services.evaluate_for``), so the groups, counts and reasons are of those patients only.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..render.comparisons import TESTS_NOTE, by_words, comparison_header, comparison_rows
from ..render.text import ALL_RAN, NOT_RUN_HEADING, analyses_not_run, result_cell
from ..words import counted
from ..results import ComparisonResult, DistributionResult, TimeToEventResult

__all__ = ["comparison_tables", "endpoint_rows", "evaluation_view", "not_run", "reason_counts"]


def reason_counts(rows: list[dict[str, Any]]) -> str:
    """Patients (rows with a ``reason``) counted per reason, most frequent first:
    "no center (2); center X is not among the compared groups (1)"; "" for none."""
    if not rows:
        return ""
    counts = (pl.DataFrame(rows).select(pl.col("reason").cast(pl.String)).group_by("reason").len()
              .sort(["len", "reason"], descending=[True, False]))
    return "; ".join(f"{reason} ({n})" for reason, n in counts.iter_rows())


def _detail(result) -> str | None:
    if isinstance(result, DistributionResult):
        test = result.extra.get("test") if isinstance(result.extra, dict) else None
        return (test.get("sentence") or test.get("method")) if test else None
    if isinstance(result, TimeToEventResult):
        text = f"Kaplan-Meier; {result.censored} censored"
        if result.excluded:
            text += (f"; {counted(result.excluded, 'patient')} left out: "
                     + (reason_counts(result.excluded_patients) or "reason not given"))
        return text
    return None


def endpoint_rows(evaluation) -> list[dict[str, Any]]:
    """Per endpoint: ``id``, ``label``, ``kind``, ``value``, ``detail`` (or ``None``), ``method``."""
    return [{"id": r.id, "label": r.label, "kind": r.kind, "value": result_cell(r), "detail": _detail(r),
             "method": r.method} for r in evaluation.endpoints.values()]


def _table(key: str, comparison: ComparisonResult, labels: dict[str, str]) -> dict[str, Any]:
    return {"key": key, "title": f"Outcomes {by_words(comparison)}", "header": comparison_header(comparison),
            "rows": list(zip(comparison.endpoints, comparison_rows(comparison, labels))),
            "ungrouped": len(comparison.ungrouped), "ungrouped_reasons": reason_counts(comparison.ungrouped),
            "tests_note": TESTS_NOTE}


def comparison_tables(evaluation) -> list[dict[str, Any]]:
    """Per comparison: ``key``, ``title``, ``header``, ``rows`` (endpoint id, row cells),
    ``ungrouped`` (a count), ``ungrouped_reasons`` (``reason_counts``) and ``tests_note``."""
    labels = {r.id: r.label for r in evaluation.endpoints.values()}
    return [_table(key, c, labels) for key, c in evaluation.comparisons.items()]


def not_run(evaluation) -> list[str]:
    return analyses_not_run(evaluation)


def evaluation_view(evaluation) -> dict[str, Any]:
    """The template's values beyond the protocol's names, the download links and the patients
    not in the cohort (listed a page at a time: ``evaluation_pages``)."""
    return {"endpoints": endpoint_rows(evaluation), "comparisons": comparison_tables(evaluation),
            "not_run": not_run(evaluation), "not_run_heading": NOT_RUN_HEADING, "all_ran": ALL_RAN,
            "methods": evaluation.methods()}
