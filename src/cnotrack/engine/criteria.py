"""Criteria as Polars expressions over the per-patient table, true / false / null (missing).

A patient is missing for a criterion when any value it needs is missing: ``all`` and
``any`` are null as soon as one part is null (they do not short-circuit), so that
"lacked the data" means the same for every endpoint. ``new_lesions`` counts the new lesions
its lesion filter keeps (``lesion_filters.py``: matched on all lesions, then filtered; an empty
``symptomatic`` counts as not symptomatic), from the pair columns ``<from>><to>[<key>].new``.
``change`` compares ``change(<of>)@<from>><to>`` (or ``pchange(...)`` with ``percent``) with
its value: "fell by 2 or more" is ``op: "<=", value: -2``; missing when the change is.
"""

from __future__ import annotations

import operator

import polars as pl

from ..protocols.model import (
    AllOf, AnyOf, AssessmentCriterion, ChangeCriterion, Criterion, LabDecreased, LabElevated, LabNormal,
    NewLesions, Not, PedcnoCriterion, PgaCriterion, SexCriterion,
)
from .changes import change_column, pair_prefix
from .labs import elevated_expr
from .patient_criteria import patient_criterion_expr
from ..protocols.criteria import AgeCriterion, CenterCriterion, CourseCriterion, DiagnosisCriterion, TreatmentCriterion
from .lesion_filters import effective, filter_key

__all__ = ["criterion_expr"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def _strict(parts: list[pl.Expr], combine) -> pl.Expr:
    return pl.when(pl.any_horizontal([p.is_null() for p in parts])).then(None).otherwise(combine(parts))


def criterion_expr(criterion: Criterion, modality: str | None = None) -> pl.Expr:
    """The criterion as a Boolean expression; null where the patient lacks the data.

    ``modality`` is the protocol's imaging modality: a lesion filter naming it filters nothing."""
    if isinstance(criterion, AllOf):
        return _strict([criterion_expr(c, modality) for c in criterion.all], pl.all_horizontal)
    if isinstance(criterion, AnyOf):
        return _strict([criterion_expr(c, modality) for c in criterion.any], pl.any_horizontal)
    if isinstance(criterion, Not):
        return ~criterion_expr(criterion.not_, modality)
    if isinstance(criterion, PgaCriterion):
        col = pl.col(f"pga@{criterion.pga.at}")
        return pl.when(col.is_null()).then(None).otherwise(col.is_in(list(criterion.pga.in_)))
    if isinstance(criterion, AssessmentCriterion):
        a = criterion.assessment
        return _OPS[a.op](pl.col(f"{a.field}@{a.at}"), pl.lit(a.value))
    if isinstance(criterion, LabElevated):
        return _elevated(criterion.lab_elevated.test, criterion.lab_elevated.at)
    if isinstance(criterion, LabNormal):
        return ~_elevated(criterion.lab_normal.test, criterion.lab_normal.at)
    if isinstance(criterion, LabDecreased):
        d = criterion.lab_decreased
        return pl.col(f"{d.test}@{d.to}") < pl.col(f"{d.test}@{d.from_}")
    if isinstance(criterion, NewLesions):
        n = criterion.new_lesions
        return pl.col(f"{pair_prefix(n.from_, n.to, filter_key(n, modality))}.new") >= 1
    if isinstance(criterion, ChangeCriterion):
        c = criterion.change
        key = filter_key(effective(c, modality), modality) if c.of == "lesions" else ""
        return _OPS[c.op](pl.col(change_column(c.of, c.from_, c.to, key, percent=c.percent)), pl.lit(c.value))
    if isinstance(criterion, PedcnoCriterion):
        return pedcno_expr(criterion)
    if isinstance(criterion, SexCriterion):
        return pl.col("sex").is_in(list(criterion.sex.in_))
    if isinstance(criterion, (CenterCriterion, AgeCriterion, TreatmentCriterion, DiagnosisCriterion)):
        return patient_criterion_expr(criterion)
    if isinstance(criterion, CourseCriterion):  # a course measure (cnotrack.courses), column course.<measure>[@<at>]
        c = criterion.course
        return _OPS[c.op](pl.col(f"course.{c.measure}" + (f"@{c.at}" if c.at else "")), pl.lit(c.value))
    raise TypeError(f"unknown criterion {criterion!r}")


PEDCNO_VARIABLES = {"esr": "ESR", "mri_lesions": "lesions", "physician_vas": "pga_vas",
                    "patient_vas": "patient_global_vas", "chaq_di": "chaq_di"}


def pedcno_expr(criterion: PedcnoCriterion) -> pl.Expr:
    """PedCNO-X met, vectorised, by the rules of ``cnotrack.instruments.pedcno``.

    Percent change = (follow-up - baseline) / baseline x 100 (lower is better); improved when
    <= -X, worsened when > the limit; a variable with baseline 0 cannot improve and worsens
    when it rises above 0. Compared as 100 (f - b) against X b, rounded to 9 decimals, so that
    exactly -30 % is improved as with exact fractions. Missing when any of the ten is missing.
    """
    a = criterion.pedcno
    improved, worsened, values = [], [], []
    for column in PEDCNO_VARIABLES.values():
        b = pl.col(f"{column}@{a.from_}").cast(pl.Float64)
        f = pl.col(f"{column}@{a.to}").cast(pl.Float64)
        values += [b, f]
        change = (100 * (f - b)).round(9)
        improved.append(((b > 0) & (change <= (-a.level * b).round(9))).cast(pl.Int32))
        worsened.append(pl.when(b == 0).then(f > 0)
                        .otherwise(change > (a.worsening_limit * b).round(9)).cast(pl.Int32))
    met = (pl.sum_horizontal(improved) >= 3) & (pl.sum_horizontal(worsened) <= 1)
    return pl.when(pl.any_horizontal([v.is_null() for v in values])).then(None).otherwise(met)


def _elevated(test: str, at: str) -> pl.Expr:
    base = f"{test}@{at}"
    return elevated_expr(base, f"{base}.censor", f"{base}.limit")
