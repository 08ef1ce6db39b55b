"""The statistics of an evaluation: intervals, paired comparisons, time to event and Table 1.

``statistics_for`` gathers, for the eligible cohort of an evaluated protocol:

(a) the Clopper-Pearson exact 95% interval of every proportion endpoint, for ``n`` of ``of``
    (patients with missing data stay in the denominator, as in the endpoint's percentage);
(b) for every pair of timepoints of ``protocol.pairs()`` (the declared ``paired_tests``, else
    ``baseline`` and ``month6`` when the protocol has both), keyed ``<from>_vs_<to>.<what>``,
    the paired comparisons of the two: Wilcoxon signed-rank tests of ESR, CRP (mg/L), the
    active lesion count and the PGA (ordinal, none = 0 ... severe = 4), and exact McNemar tests
    of ESR elevated, CRP
    elevated and PGA none or minimal (values the protocol's endpoints do not use are chosen by
    the engine with the protocol's windows, see ``_values.py``); without a pair, a note says so;
(c) the two Kaplan-Meier analyses of ``events.py``;
(d) Table 1.

``statistics_for`` leaves the evaluation unchanged; ``with_intervals`` puts the intervals into
the evaluation's own proportion results (so that its JSON carries ``ci95``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from ..engine.evaluate import Evaluation
from ..engine.labs import elevated_expr
from ..exchange.dataset import Dataset
from ..results import ProportionResult
from ..vocabulary import lab_tests
from ._values import analysis_table
from .events import time_to_events
from ..statistics.intervals import CLOPPER_PEARSON, clopper_pearson
from ..statistics.paired import PGA_LEVELS, PairedTest, mcnemar_exact, wilcoxon_signed_rank
from ..statistics.survival import SurvivalResult
from .table1 import TableOne, table_one

__all__ = ["Statistics", "paired_comparisons", "proportion_intervals", "statistics_for", "with_intervals"]

FIRST, SECOND = "baseline", "month6"


@dataclass
class Statistics:
    """Everything ``statistics_for`` computed; ``as_json()`` gives it as plain values."""

    intervals: dict[str, dict[str, Any]]
    paired: dict[str, PairedTest]
    survival: dict[str, SurvivalResult]
    table_one: TableOne
    notes: list[str] = field(default_factory=list)

    def as_json(self, *, detail: bool = True) -> dict[str, Any]:
        """Plain values; without ``detail`` the survival analyses leave out their per-patient
        ``subjects`` and ``excluded_patients`` (``SurvivalResult.as_json``)."""
        return {
            "intervals": self.intervals,
            "paired": {k: t.as_json() for k, t in self.paired.items()},
            "survival": {k: s.as_json(detail=detail) for k, s in self.survival.items()},
            "table_one": self.table_one.as_json(),
            "notes": self.notes,
        }

    def sentences(self) -> list[str]:
        """The results in words: paired tests, then time-to-event analyses."""
        return [t.sentence() for t in self.paired.values()] + [s.sentence() for s in self.survival.values()]


def statistics_for(evaluation: Evaluation, dataset: Dataset) -> Statistics:
    """The statistics of ``evaluation`` (made from ``dataset``); see the module's docstring."""
    paired, notes = paired_comparisons(evaluation, dataset)
    return Statistics(
        intervals=proportion_intervals(evaluation),
        paired=paired,
        survival=time_to_events(evaluation, dataset),
        table_one=table_one(evaluation, dataset),
        notes=notes,
    )


def proportion_intervals(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """Per proportion endpoint: ``{"n", "of", "ci95": [lower, upper] or None, "method"}``."""
    out: dict[str, dict[str, Any]] = {}
    for key, result in evaluation.endpoints.items():
        if isinstance(result, ProportionResult):
            ci = clopper_pearson(result.n, result.of)
            out[key] = {"n": result.n, "of": result.of, "ci95": list(ci) if ci else None,
                        "method": CLOPPER_PEARSON}
    return out


def with_intervals(evaluation: Evaluation) -> None:
    """Give every proportion result of ``evaluation`` its Clopper-Pearson 95% interval
    (``ci95``, ``ci_method``), in place; an empty denominator keeps ``ci95 = None``."""
    for key, result in list(evaluation.endpoints.items()):
        if isinstance(result, ProportionResult):
            evaluation.endpoints[key] = replace(result, ci95=clopper_pearson(result.n, result.of),
                                                ci_method=CLOPPER_PEARSON)


def paired_comparisons(evaluation: Evaluation, dataset: Dataset) -> tuple[dict[str, PairedTest], list[str]]:
    """Every pair of ``protocol.pairs()``, keyed ``<from>_vs_<to>.<what>``, and notes on what was left out."""
    protocol = evaluation.protocol
    pairs = protocol.pairs()
    if not pairs:
        if protocol.paired_tests is not None:
            return {}, ["No paired tests: the protocol's paired_tests is empty."]
        return {}, ["No paired tests: the protocol declares no pairs of timepoints (paired_tests) and has no "
                    f"{FIRST} and {SECOND} timepoints."]
    wanted = [tp for pair in pairs for tp in pair]
    table = analysis_table(evaluation, dataset, timepoints=list(dict.fromkeys(wanted)))
    out: dict[str, PairedTest] = {}
    notes: list[str] = []
    for first, second in pairs:
        tests, missing = _paired_pair(table, protocol.timepoint(first), protocol.timepoint(second))
        out |= tests
        notes += missing
    return out, sorted(set(notes))


def _paired_pair(table: pl.DataFrame, first_tp, second_tp) -> tuple[dict[str, PairedTest], list[str]]:
    """The paired tests of one pair of timepoints (see the module's docstring)."""
    first, second = first_tp.id, second_tp.id
    labels = (f"at {first_tp.label}", f"at {second_tp.label}")
    prefix = f"{first}_vs_{second}"
    out: dict[str, PairedTest] = {}
    notes: list[str] = []

    def have(*columns: str) -> bool:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            notes.append(f"No {', '.join(missing)} in the evaluation: the comparison needing it is left out.")
        return not missing

    for test in ("ESR", "CRP"):
        a, b = f"{test}@{first}", f"{test}@{second}"
        if have(a, b):
            censored = int(table[f"{a}.censor"].is_not_null().sum() + table[f"{b}.censor"].is_not_null().sum()) \
                if f"{a}.censor" in table.columns and f"{b}.censor" in table.columns else 0
            note = ([f"{censored} censored value(s) (such as <0.5) were used as their limit"] if censored else [])
            out[f"{prefix}.{test}"] = wilcoxon_signed_rank(
                table[a], table[b], variable=test, unit=lab_tests().test(test).canonical_unit,
                labels=labels, notes=note)
    if have(f"lesions@{first}", f"lesions@{second}"):
        out[f"{prefix}.lesions"] = wilcoxon_signed_rank(
            table[f"lesions@{first}"], table[f"lesions@{second}"],
            variable="Active lesion count", labels=labels)
    if have(f"pga@{first}", f"pga@{second}"):
        out[f"{prefix}.PGA"] = wilcoxon_signed_rank(
            table[f"pga@{first}"], table[f"pga@{second}"], variable="PGA",
            levels=PGA_LEVELS, labels=labels)
    for test in ("ESR", "CRP"):
        needed = [f"{test}@{tp}{suffix}" for tp in (first, second) for suffix in ("", ".censor", ".limit")]
        if have(*needed):
            flags = table.select(*[
                elevated_expr(f"{test}@{tp}", f"{test}@{tp}.censor", f"{test}@{tp}.limit").alias(f"_{i}")
                for i, tp in enumerate((first, second))])
            out[f"{prefix}.{test}_elevated"] = mcnemar_exact(
                flags["_0"], flags["_1"], variable=f"{test} elevated", labels=labels)
    if have(f"pga@{first}", f"pga@{second}"):
        flags = table.select(*[
            pl.col(f"pga@{tp}").is_in(["none", "minimal"]).alias(f"_{i}") for i, tp in enumerate((first, second))])
        out[f"{prefix}.PGA_none_or_minimal"] = mcnemar_exact(
            flags["_0"], flags["_1"], variable="PGA none or minimal", labels=labels)
    return out, notes
