"""Criteria on the patient rather than on a timepoint: center, age, treatment, diagnosis.

They are expressions over the cohort's tables (the eligible table, and through it the
per-patient table of the endpoints), true / false / null (missing):

- ``center``: the patient's ``center``, trimmed, is one of ``in`` (case-sensitive); missing
  when the patient has no center.
- ``age``: years = days / 365.25 from ``birth_date`` to the index date, ``onset_date`` or
  ``diagnosis_date``; a birth date ``YYYY-MM`` is taken as the 15th of that month (the exchange
  format's partial date); missing when either date is missing.
- ``treatment``: a course of the selection started before the index date (``before_index``,
  as ``prior_treatments``), on or after it other than the index course (``after_index``, so a
  drug added on the index day counts), at any time (``ever``) or the index course itself is of
  the selection (``index``). Computed by a join into the column ``treatment[<key>]``
  (``treatment_key``); missing for a patient without an index course, except with ``ever``.
- ``diagnosis``: a yes/no item of the optional ``diagnosis`` table equals ``value``; missing when
  the patient has no row or the item is empty. Joined as the column ``diagnosis.<field>``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator

import polars as pl
from pydantic import BaseModel

from ..exchange.dataset import Dataset
from ..protocols.criteria import AgeCriterion, CenterCriterion, DiagnosisCriterion, TreatmentCriterion
from .treatments import selected_courses

__all__ = ["AGE_COLUMNS", "ELIGIBILITY_KINDS", "PATIENT_KINDS", "add_patient_columns", "age_columns", "age_years_expr",
           "birth_date_expr", "diagnosis_column", "patient_criteria_of",
           "patient_criterion_expr", "treatment_column", "treatment_key"]

#: criterion kinds this module evaluates
PATIENT_KINDS = ("center", "age", "treatment", "diagnosis")
#: criterion kinds allowed in eligibility ``require``/``exclude`` (no timepoint is needed; a
#: ``course`` measure only without ``at``)
ELIGIBILITY_KINDS = ("sex", *PATIENT_KINDS, "course", "all", "any", "not")

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}
_AT = {"index": "index_date", "onset": "onset_date", "diagnosis": "diagnosis_date"}


def treatment_key(criterion: TreatmentCriterion) -> str:
    """A stable key of a treatment criterion, e.g. ``before_index;classes=biologic;targets=TNF``."""
    t = criterion.treatment
    parts = [t.when]
    for name in ("drugs", "classes", "targets"):
        if getattr(t, name):
            parts.append(f"{name}={','.join(getattr(t, name))}")
    if t.line:
        parts.append(f"line={t.line}")
    if t.systemic_only:
        parts.append("systemic_only")
    return ";".join(parts)


def treatment_column(criterion: TreatmentCriterion) -> str:
    return f"treatment[{treatment_key(criterion)}]"


def diagnosis_column(criterion: DiagnosisCriterion) -> str:
    return f"diagnosis.{criterion.diagnosis.field}"


def birth_date_expr() -> pl.Expr:
    """``birth_date`` (a partial date, text) as a date: YYYY-MM-DD, or YYYY-MM as the 15th."""
    raw = pl.col("birth_date").cast(pl.String).str.strip_chars()
    return pl.coalesce(raw.str.to_date("%Y-%m-%d", strict=False),
                       (raw + "-15").str.to_date("%Y-%m-%d", strict=False))


#: the cohort's age columns: years at the index date, at onset and at diagnosis
AGE_COLUMNS = tuple(f"age_at_{at}" for at in _AT)


def age_columns(birth: pl.Expr | None = None) -> list[pl.Expr]:
    """Age in years (days / 365.25) at ``index``, ``onset`` and ``diagnosis``, from ``birth_date``
    (or ``birth``, that date already read by ``birth_date_expr``) and the three dates; null when
    one is missing. The cohort carries these, not the birth date."""
    born = birth_date_expr() if birth is None else birth
    return [((pl.col(date) - born).dt.total_days() / 365.25).alias(f"age_at_{at}")
            for at, date in _AT.items()]


def age_years_expr(at: str) -> pl.Expr:
    """Age in years at ``index``, ``onset`` or ``diagnosis`` (the cohort's ``age_at_<at>``)."""
    return pl.col(f"age_at_{at}")


def patient_criterion_expr(criterion: BaseModel) -> pl.Expr:
    """The expression of a center, age, treatment or diagnosis criterion."""
    if isinstance(criterion, CenterCriterion):
        wanted = sorted({c.strip() for c in criterion.center.in_})
        center = pl.col("center").str.strip_chars()
        return pl.when(center.is_null()).then(None).otherwise(center.is_in(wanted))
    if isinstance(criterion, AgeCriterion):
        a = criterion.age
        return _OPS[a.op](age_years_expr(a.at), pl.lit(a.value))
    if isinstance(criterion, TreatmentCriterion):
        return pl.col(treatment_column(criterion))
    if isinstance(criterion, DiagnosisCriterion):
        d = criterion.diagnosis
        return pl.col(diagnosis_column(criterion)) == pl.lit(d.value)
    raise TypeError(f"not a patient criterion: {criterion!r}")


def patient_criteria_of(node: object) -> Iterator[BaseModel]:
    """Every treatment and diagnosis criterion inside a protocol or a part of it."""
    if isinstance(node, (TreatmentCriterion, DiagnosisCriterion)):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from patient_criteria_of(getattr(node, name))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from patient_criteria_of(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from patient_criteria_of(item)


def add_patient_columns(table: pl.DataFrame, dataset: Dataset, criteria: list[BaseModel],
                        index: pl.DataFrame) -> pl.DataFrame:
    """``table`` with a ``treatment[<key>]`` or ``diagnosis.<field>`` column per criterion.

    ``index`` has ``patient_id``, ``index_date`` and ``index_drug`` for patients with an index
    course; each column is one join, for all patients at once."""
    done: set[str] = set()
    for criterion in criteria:
        if isinstance(criterion, TreatmentCriterion):
            name = treatment_column(criterion)
            if name not in done:
                table = table.join(_treatment_flags(dataset, criterion, index, name), on="patient_id",
                                   how="left")
        else:
            name = diagnosis_column(criterion)
            if name not in done:
                field = criterion.diagnosis.field
                rows = dataset["diagnosis"].select("patient_id", pl.col(field).alias(name))
                table = table.join(rows, on="patient_id", how="left")
        done.add(name)
    return table


def _treatment_flags(dataset: Dataset, criterion: TreatmentCriterion, index: pl.DataFrame,
                     name: str) -> pl.DataFrame:
    t = criterion.treatment
    courses = selected_courses(dataset["treatments"], t)
    patients = dataset["patients"].select("patient_id").join(
        index.select("patient_id", "index_date", "index_drug"), on="patient_id", how="left")
    found = courses.join(patients, on="patient_id", how="inner")
    if t.when == "before_index":
        hit = pl.col("start_date") < pl.col("index_date")
    elif t.when == "after_index":
        is_index = (pl.col("drug") == pl.col("index_drug")) & (pl.col("start_date") == pl.col("index_date"))
        hit = (pl.col("start_date") >= pl.col("index_date")) & ~is_index
    elif t.when == "index":
        hit = (pl.col("drug") == pl.col("index_drug")) & (pl.col("start_date") == pl.col("index_date"))
    else:
        hit = pl.lit(True)
    had = found.filter(hit.fill_null(False)).select("patient_id").unique().with_columns(
        pl.lit(True).alias("__had"))
    flags = patients.join(had, on="patient_id", how="left").with_columns(pl.col("__had").fill_null(False))
    missing = pl.lit(False) if t.when == "ever" else pl.col("index_date").is_null()
    return flags.select("patient_id", pl.when(missing).then(None).otherwise(pl.col("__had")).alias(name))
