"""Treatment courses by drug, class, target and line of therapy, for all patients at once.

A selection (``TreatmentSelection``) takes the courses of any drug of ``drugs``, of ``classes``
or whose drug has a ``targets`` entry in the drug vocabulary (the union); ``systemic_only``
leaves topical courses out (a course without a route counts as systemic). With ``line``, only
the course that starts that line of therapy (``vocabularies/lines.yaml``) is kept, and it must
also be of the drugs, classes or targets when any are given.

A line of ``order`` n starts with the first course of the n-th distinct drug of the line's
selection, the drugs ranked by the start of their first course. Courses starting on one day are
ranked by the settled tie-break of the index course: the longer first (an ongoing course before
any stopped one, then the later stop date), then the drug name alphabetically.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from ..errors import ProtocolError
from ..protocols.criteria import TreatmentSelection
from ..vocabulary import drugs, lines

__all__ = ["COURSE_COLUMNS", "course_order", "drug_facts", "line_courses", "selected_courses",
           "selection_expr", "systemic_expr", "with_drug_facts"]

#: the columns of every course frame this module returns
COURSE_COLUMNS = ("patient_id", "drug", "drug_class", "target", "start_date", "stop_date", "route",
                  "stop_reason")

_TREATMENT_COLUMNS = {"patient_id": pl.String, "drug": pl.String, "start_date": pl.Date,
                      "stop_date": pl.Date, "route": pl.String, "stop_reason": pl.String}


@cache
def _facts() -> pl.DataFrame:
    return pl.DataFrame(
        [(d.name, d.drug_class, d.target) for d in drugs().drugs],
        schema={"drug": pl.String, "drug_class": pl.String, "target": pl.String}, orient="row",
    )


def drug_facts() -> pl.DataFrame:
    """Each drug of the vocabulary with its ``drug_class`` and ``target`` (null for drugs
    without one, e.g. NSAIDs)."""
    return _facts().clone()


def with_drug_facts(treatments: pl.DataFrame) -> pl.DataFrame:
    """The treatments with ``drug_class`` and ``target`` joined from the vocabulary (replacing
    any the frame had), and ``route``/``stop_reason`` as null when the frame lacks them."""
    missing = [pl.lit(None, dtype).alias(c) for c, dtype in _TREATMENT_COLUMNS.items()
               if c not in treatments.columns]
    frame = treatments.with_columns(missing) if missing else treatments
    frame = frame.drop([c for c in ("drug_class", "target") if c in frame.columns])
    return frame.join(_facts(), on="drug", how="left")


def course_order() -> tuple[list[str], list[bool]]:
    """The sort of courses within a patient: earliest start, then the longer (ongoing first,
    then the later stop), then the drug name. Use with ``nulls_last=False``."""
    return ["patient_id", "start_date", "stop_date", "drug"], [False, False, True, False]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    by, descending = course_order()
    return frame.sort(by, descending=descending, nulls_last=False)


def systemic_expr() -> pl.Expr:
    """A systemic course: any route but ``topical`` (a course without a route counts as systemic)."""
    return pl.col("route").is_null() | (pl.col("route") != "topical")


def selection_expr(selection: TreatmentSelection) -> pl.Expr:
    """True for a course of the selection's drugs, classes or targets (every course when none
    is given, as for a selection by ``line`` only); ``systemic_only`` drops topical courses.
    Needs the columns ``drug``, ``drug_class``, ``target`` and ``route``. Ignores ``line``:
    ``selected_courses`` applies it."""
    _check_selection(selection)
    parts = []
    if selection.drugs:
        parts.append(pl.col("drug").is_in(list(selection.drugs)))
    if selection.classes:
        parts.append(pl.col("drug_class").is_in(list(selection.classes)))
    if selection.targets:
        parts.append(pl.col("target").is_in(list(selection.targets)))
    expr = pl.any_horizontal(parts).fill_null(False) if parts else pl.lit(True)
    if selection.systemic_only:
        expr = expr & systemic_expr()
    return expr


def line_courses(treatments: pl.DataFrame, line: str) -> pl.DataFrame:
    """One row per patient who reached ``line``: the course that starts it (``COURSE_COLUMNS``).

    The line's drugs are ranked per patient by their first course (course_order); the line of
    order n starts with the first course of the n-th drug."""
    spec = _line(line)
    s = spec.selection
    selection = TreatmentSelection(drugs=s.drugs, classes=s.classes, targets=s.targets,
                                   systemic_only=s.systemic_only)
    courses = _sorted(with_drug_facts(treatments).filter(selection_expr(selection)))
    first_of_drug = courses.group_by(["patient_id", "drug"], maintain_order=True).first()
    nth = (
        _sorted(first_of_drug)
        .with_columns(pl.int_range(1, pl.len() + 1).over("patient_id").alias("__rank"))
        .filter(pl.col("__rank") == spec.order)
    )
    return nth.select(COURSE_COLUMNS).sort("patient_id")


def selected_courses(treatments: pl.DataFrame, selection: TreatmentSelection) -> pl.DataFrame:
    """Every course of the selection (``COURSE_COLUMNS``), sorted by patient and course_order;
    with ``line``, at most one per patient: the course starting that line, when it is also of
    the selection's drugs, classes or targets."""
    if selection.line is not None:
        return line_courses(treatments, selection.line).filter(selection_expr(selection))
    return _sorted(with_drug_facts(treatments).filter(selection_expr(selection))).select(COURSE_COLUMNS)


def _line(name: str):
    known = lines().lines
    if name not in known:
        raise ProtocolError(f"line {name!r} is not a line of therapy; use one of {', '.join(known)} "
                            "(vocabularies/lines.yaml)")
    return known[name]


def _check_selection(selection: TreatmentSelection) -> None:
    vocabulary = drugs()
    names = {d.name for d in vocabulary.drugs}
    wrong = ([f"drug {d!r}" for d in selection.drugs if d not in names]
             + [f"class {c!r}" for c in selection.classes if c not in vocabulary.classes]
             + [f"target {t!r}" for t in selection.targets if t not in vocabulary.targets])
    if wrong:
        raise ProtocolError(f"treatment selection names {', '.join(wrong)}, not in the drug vocabulary "
                            f"(classes: {', '.join(vocabulary.classes)}; targets: "
                            f"{', '.join(vocabulary.targets)})")
    if selection.line is not None:
        _line(selection.line)
