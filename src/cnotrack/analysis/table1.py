"""Table 1: the eligible patients at the index date.

Continuous variables are given as median [first quartile - third quartile] and range, with the
number of patients who have a value and the number missing; quartiles by linear interpolation
(numpy's default, as the protocol's distributions). Categorical variables are n (%) with the
denominator stated: the patients with a known value (all eligible patients for sex and prior
treatments, patients with a baseline study for lesions, patients with a baseline PGA for the
PGA). This is the descriptive table of the STROBE statement (von Elm E et al. Lancet
2007;370:1453-1457, item 14a).

- Ages are in years (days / 365.25) at onset, diagnosis and the index date; a birth date given
  as ``YYYY-MM`` is taken as the 15th of that month.
- Disease duration at the index date is given twice: from onset and from diagnosis.
- Prior treatments: a course of a drug of the class that started before the index date (any
  route); no recorded course counts as none.
- Baseline lesions: active lesions on the baseline study of the protocol's modality; body
  regions from the anatomy vocabulary.
- ESR and CRP at baseline in their canonical units (CRP in mg/L); a censored value such as
  ``<0.5`` enters the median as its limit, and the row says how many were censored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from ..engine.cohort import drug_table
from ..engine.evaluate import Evaluation
from ..engine.lesion_tracking import lesion_present
from ..engine.patient_criteria import birth_date_expr
from ..exchange.dataset import Dataset
from ..vocabulary import anatomy, drugs, lab_tests
from ._values import analysis_table
from ..statistics.paired import PGA_LEVELS
from ..statistics.survival import DAYS_PER_YEAR

__all__ = ["TableOne", "TableOneRow", "table_one"]


class TableOneRow(NamedTuple):
    section: str
    variable: str
    value: str
    n: int          # patients with a value (the denominator of a percentage)
    missing: int    # eligible patients without one


@dataclass(frozen=True)
class TableOne:
    """``rows`` in display order; ``statistics[i]`` holds the unrounded numbers of ``rows[i]``."""

    n: int
    rows: list[TableOneRow]
    statistics: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    method: str = ("Continuous: median [IQR], range (quartiles by linear interpolation); "
                   "categorical: n (%) of the patients with a known value.")

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "method": self.method, "notes": self.notes,
                "rows": [row._asdict() | {"statistics": stats} for row, stats in zip(self.rows, self.statistics)]}

    def row(self, variable: str, section: str | None = None) -> TableOneRow:
        """The row named ``variable`` (in ``section`` when given)."""
        for row in self.rows:
            if row.variable == variable and (section is None or row.section == section):
                return row
        raise KeyError(f"Table 1 has no row {variable!r}; rows: {[r.variable for r in self.rows]}")


class _Builder:
    def __init__(self, total: int) -> None:
        self.total = total
        self.rows: list[TableOneRow] = []
        self.stats: list[dict[str, Any]] = []

    def continuous(self, section: str, variable: str, values: list[float | None], *,
                   decimals: int = 1, extra: dict[str, Any] | None = None) -> None:
        known = np.array([v for v in values if v is not None], dtype=float)
        missing = len(values) - known.size
        if known.size == 0:
            self._add(TableOneRow(section, variable, "no values", 0, missing), {"n": 0} | (extra or {}))
            return
        q1, median, q3 = (float(q) for q in np.quantile(known, [0.25, 0.5, 0.75]))
        low, high = float(known.min()), float(known.max())
        f = f".{decimals}f"
        text = f"{median:{f}} [{q1:{f}}-{q3:{f}}]; range {low:{f}}-{high:{f}}"
        stats = {"n": int(known.size), "median": median, "q1": q1, "q3": q3, "min": low, "max": high}
        self._add(TableOneRow(section, variable, text, int(known.size), missing), stats | (extra or {}))

    def category(self, section: str, variable: str, count: int, of: int) -> None:
        percent = None if of == 0 else 100 * count / of
        text = f"{count}/{of}" if of == 0 else f"{count} ({percent:.1f}%)"
        self._add(TableOneRow(section, variable, text, of, self.total - of),
                  {"count": count, "of": of, "percent": percent})

    def _add(self, row: TableOneRow, stats: dict[str, Any]) -> None:
        self.rows.append(row)
        self.stats.append(stats)


def table_one(evaluation: Evaluation, dataset: Dataset) -> TableOne:
    """Table 1 of the eligible patients of ``evaluation`` (see the module's docstring)."""
    eligible = evaluation.cohort.eligible
    patients = analysis_table(evaluation, dataset)
    out = _Builder(eligible.height)
    notes: list[str] = []

    people = eligible.join(dataset["patients"].select("patient_id", "birth_date", "onset_date", "diagnosis_date"),
                           on="patient_id", how="left").with_columns(birth_date_expr().alias("__birth"))
    for code, label in (("F", "Female"), ("M", "Male"), ("U", "Sex unknown")):
        count = int((people["sex"] == code).sum())
        if code != "U" or count:
            out.category("Demographics", label, count, people.height)
    for column, label in (("onset_date", "Age at onset (years)"), ("diagnosis_date", "Age at diagnosis (years)"),
                          ("index_date", "Age at the index date (years)")):
        out.continuous("Demographics", label, _years(people, "__birth", column))
    out.continuous("Disease", "Disease duration at the index date, from onset (years)",
                   _years(people, "onset_date", "index_date"))
    out.continuous("Disease", "Time from diagnosis to the index date (years)",
                   _years(people, "diagnosis_date", "index_date"))

    prior = (dataset["treatments"].join(eligible.select("patient_id", "index_date"), on="patient_id", how="inner")
             .filter(pl.col("start_date") < pl.col("index_date")).join(drug_table(), on="drug", how="left"))
    for drug_class, label in drugs().classes.items():
        count = prior.filter(pl.col("drug_class") == drug_class)["patient_id"].n_unique()
        out.category("Treatment before the index date", label, count, eligible.height)

    if "study@baseline" in patients.columns:
        _baseline_lesions(out, patients, evaluation.protocol.imaging_modality, dataset)
    else:
        notes.append("The protocol has no baseline timepoint: the lesion rows are left out.")

    for test in ("ESR", "CRP"):
        column = f"{test}@baseline"
        if column not in patients.columns:
            notes.append(f"The protocol has no baseline timepoint: the {test} row is left out.")
            continue
        censored = int(patients[f"{column}.censor"].is_not_null().sum())
        unit = lab_tests().test(test).canonical_unit
        out.continuous("Baseline laboratory", f"{test} ({unit})", patients[column].to_list(),
                       extra={"unit": unit, "censored": censored})
        if censored:
            notes.append(f"{censored} baseline {test} value(s) were censored (for example <0.5) "
                         "and count as their limit.")

    if "pga@baseline" in patients.columns:
        pga = patients["pga@baseline"]
        known = int(pga.is_not_null().sum())
        for level in PGA_LEVELS:
            out.category("Baseline PGA", level, int((pga == level).sum()), known)
    else:
        notes.append("The protocol has no baseline timepoint: the PGA rows are left out.")
    return TableOne(eligible.height, out.rows, out.stats, notes)


def _baseline_lesions(out: _Builder, patients: pl.DataFrame, modality: str, dataset: Dataset) -> None:
    with_study = patients.filter(pl.col("study@baseline").is_not_null())
    out.continuous("Baseline imaging", f"Active lesions on the baseline {modality.replace('_', ' ')}",
                   [None if v is None else float(v) for v in patients["lesions@baseline"].to_list()],
                   decimals=1)
    regions = pl.DataFrame([(b.name, b.region) for b in anatomy().bones], schema=["bone", "region"], orient="row")
    involved = (
        with_study.select("patient_id", pl.col("study@baseline").alias("study_id"))
        .join(dataset["lesions"], on="study_id", how="inner")
        .filter(lesion_present())
        .join(regions, on="bone", how="left")
    )
    for region, label in anatomy().regions.items():
        count = involved.filter(pl.col("region") == region)["patient_id"].n_unique()
        out.category("Baseline imaging", f"{label} involved", count, with_study.height)


def _years(frame: pl.DataFrame, start: str, end: str) -> list[float | None]:
    return frame.select(((pl.col(end) - pl.col(start)).dt.total_days() / DAYS_PER_YEAR).alias("y"))["y"].to_list()
