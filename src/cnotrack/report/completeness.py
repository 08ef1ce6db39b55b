"""Data completeness: per timepoint and kind of data, who has a value and why the others do not.

For every value the evaluation chose at a timepoint (the per-patient columns ``pga@baseline``,
``ESR@month6``, ``study@month6``, ...), the eligible patients fall into three groups:

- **with a value**: the engine chose one (the closest inside the timepoint's window);
- **none in the window**: the patient has values of that kind in the dataset, but none inside
  the window (for a timepoint without a window this cannot happen);
- **none at all**: the dataset holds no value of that kind for the patient (no PGA ever
  recorded, no ESR ever measured, no study of the protocol's imaging modality).

"Value" means a non-empty one, as the engine reads them: an assessment row with an empty PGA
does not count, nor does an imaging study of another modality.
"""

from __future__ import annotations

import re

import polars as pl

from ..engine.chaq import assessments_with_chaq
from ..engine.evaluate import Evaluation
from ..exchange.dataset import Dataset
from ..vocabulary import lab_tests
from .model import ReportTable

__all__ = ["completeness_table", "timepoint_columns"]

_COLUMN = re.compile(r"^([^@.]+)@([^.]+)$")


def timepoint_columns(evaluation: Evaluation) -> list[tuple[str, str, str]]:
    """``(column, kind, timepoint id)`` of every value chosen at a timepoint, in protocol order
    (timepoints as the protocol lists them; PGA, other assessments, laboratory tests, imaging).
    The active lesion counts (``lesions@...``) go with their study and are left out."""
    order = {t.id: i for i, t in enumerate(evaluation.protocol.timepoints)}
    found = []
    for column in evaluation.patients.columns:
        match = _COLUMN.match(column)
        if match and match.group(2) in order and match.group(1) != "lesions":
            found.append((column, match.group(1), match.group(2)))
    return sorted(found, key=lambda c: (order[c[2]], _kind_rank(c[1], evaluation), c[1]))


def _kind_rank(kind: str, evaluation: Evaluation) -> int:
    if kind == "pga":
        return 0
    if kind == "study":
        return 3
    return 2 if kind in _lab_kinds(evaluation) else 1


def _lab_kinds(evaluation: Evaluation) -> set[str]:
    return {c.split("@")[0] for c in evaluation.patients.columns if c.endswith(".limit_source")}


def kind_label(kind: str, evaluation: Evaluation) -> str:
    """How a reader names a kind of data: "PGA", "ESR (mm/h)", "bone scintigraphy study"."""
    if kind == "pga":
        return "PGA"
    if kind == "study":
        return f"{evaluation.protocol.imaging_modality.replace('_', ' ')} study"
    if kind in _lab_kinds(evaluation):
        return f"{kind} ({lab_tests().test(kind).canonical_unit})"
    return kind.replace("_", " ")


def _patients_with_any(kind: str, evaluation: Evaluation, dataset: Dataset) -> set[str]:
    """The patients with at least one non-empty value of ``kind`` anywhere in the dataset."""
    if kind == "study":
        rows = dataset["imaging"].filter(pl.col("modality") == evaluation.protocol.imaging_modality)
    elif kind in _lab_kinds(evaluation):
        rows = dataset["labs"].filter((pl.col("test") == kind) & pl.col("value").is_not_null())
    else:
        assessments = assessments_with_chaq(dataset)
        if kind not in assessments.columns:
            return set()
        rows = assessments.filter(pl.col(kind).is_not_null())
    return set(rows["patient_id"].to_list())


def completeness_table(evaluation: Evaluation, dataset: Dataset) -> ReportTable:
    """The completeness of every value chosen at a timepoint (see the module's docstring)."""
    labels = {t.id: t.label for t in evaluation.protocol.timepoints}
    patients = evaluation.patients
    eligible = patients.height
    rows = []
    for column, kind, tp in timepoint_columns(evaluation):
        have = patients.filter(pl.col(column).is_not_null())["patient_id"].to_list()
        without = patients.filter(pl.col(column).is_null())["patient_id"].to_list()
        anywhere = _patients_with_any(kind, evaluation, dataset)
        none_at_all = sum(1 for p in without if p not in anywhere)
        rows.append((labels[tp], kind_label(kind, evaluation), str(len(have)), str(len(without)),
                     str(len(without) - none_at_all), str(none_at_all)))
    windows = "; ".join(_window(t) for t in evaluation.protocol.timepoints)
    return ReportTable(
        "completeness-table", f"Data completeness (n = {eligible} eligible patients)",
        ("Timepoint", "Data", "With a value", "Missing", "Missing: none in the window", "Missing: none at all"),
        tuple(rows),
        notes=(f"Windows (days from the index date): {windows}.",
               "None in the window: the patient has values of that kind at other times; none at all: "
               "the dataset holds no value of that kind for the patient."),
    )


def _window(timepoint) -> str:
    if timepoint.anchor == "last_assessment":  # an index-anchored timepoint always has a window
        return f"{timepoint.label}: the latest assessment" + (
            f", day {timepoint.window[0]} to {timepoint.window[1]} from it" if timepoint.window else "")
    return f"{timepoint.label}: day {timepoint.window[0]} to {timepoint.window[1]}"
