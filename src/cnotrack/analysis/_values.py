"""The per-patient values the statistics need, whatever the protocol's endpoints used.

The evaluation's per-patient table holds only what the protocol's endpoints need. Table 1, the
paired comparisons and the time-to-event analyses also want the PGA, ESR, CRP and the imaging
study at ``baseline`` and ``month6`` when the protocol has those timepoints (the paired tests:
at the timepoints of ``protocol.pairs()``); the missing ones
are chosen here by the engine itself (``build_patient_table``), with the protocol's windows and
reference limits, so that they are chosen exactly as an endpoint would choose them.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from ..engine.evaluate import Evaluation
from ..engine.needs import Needs
from ..engine.patient_table import build_patient_table
from ..exchange.dataset import Dataset

__all__ = ["TIMEPOINTS", "analysis_table"]

TIMEPOINTS = ("baseline", "month6")
LAB_TESTS = ("ESR", "CRP")


def analysis_table(evaluation: Evaluation, dataset: Dataset, timepoints: Iterable[str] = TIMEPOINTS) -> pl.DataFrame:
    """``evaluation.patients`` with ``pga@``, ``ESR@``, ``CRP@``, ``study@`` and ``lesions@``
    columns added for ``timepoints`` (default ``baseline`` and ``month6``) where the protocol has
    them and they are missing."""
    present = {t.id for t in evaluation.protocol.timepoints}
    wanted = {tp for tp in timepoints if tp in present}
    if not wanted:
        return evaluation.patients
    columns = set(evaluation.patients.columns)
    needs = Needs(pga={tp for tp in wanted if f"pga@{tp}" not in columns},
                  labs={(test, tp) for test in LAB_TESTS for tp in wanted if f"{test}@{tp}" not in columns},
                  studies={tp for tp in wanted if f"study@{tp}" not in columns or f"lesions@{tp}" not in columns})
    if not (needs.pga or needs.labs or needs.studies):
        return evaluation.patients  # the evaluation already chose every value the statistics use
    extra = build_patient_table(dataset, evaluation.protocol, evaluation.cohort, needs).patients
    new = [c for c in extra.columns if c not in evaluation.patients.columns]
    if not new:
        return evaluation.patients
    return evaluation.patients.join(extra.select("patient_id", *new), on="patient_id", how="left")
