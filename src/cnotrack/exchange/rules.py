"""Rules that tie the columns of a row together (dates in order, units that suit the test,
sides and segments that suit the bone, lesion identifiers unique within a study; for the
sites of biopsies and complications, version 1.1: a side only with a bone, none for a midline
bone, and a vertebral fracture or collapse of a vertebra)."""

from __future__ import annotations

import polars as pl

from ..errors import Problem
from ..vocabulary import anatomy, lab_tests
from .column_typing import TableFacts
from .dataset import ROW
from .writer import format_cell

__all__ = ["bone_table", "canonical_lab_units", "cross_field_problems", "lab_unit_table"]


def lab_unit_table() -> pl.DataFrame:
    """Every accepted (test, unit spelling) with its canonical unit and conversion factor."""
    rows = []
    for test in lab_tests().tests:
        for spelling, unit in test.unit_lookup().items():
            rows.append((test.code, spelling, unit, test.units[unit] , test.canonical_unit))
    return pl.DataFrame(rows, schema=["test", "__unit_key", "unit_canonical_spelling", "factor",
                                      "canonical_unit"], orient="row")


def bone_table() -> pl.DataFrame:
    """Each bone with its region, laterality and the segments it accepts."""
    atlas = anatomy()
    return pl.DataFrame(
        [(b.name, b.region, b.laterality, list(atlas.segment_sets[b.segments])) for b in atlas.bones],
        schema={"bone": pl.String, "region": pl.String, "laterality": pl.String,
                "allowed_segments": pl.List(pl.String)},
        orient="row",
    )


def cross_field_problems(typed: dict[str, pl.DataFrame], labels: dict[str, str], *,
                         facts: dict[str, TableFacts] | None = None) -> list[Problem]:
    """The problems of the rules that tie columns together. ``facts`` (by table) are what the
    typing found on a table's codes (its distinct (test, unit) pairs, its distinct lesion sites,
    whether its lesion_ids are unique per study), so that the rows are looked at only where
    those show a problem."""
    problems: list[Problem] = []
    facts = facts or {}

    def report(table: str, frame: pl.DataFrame, column: str, message: str) -> None:
        for row, value in frame.select(ROW, pl.col(column).cast(pl.String)).iter_rows():
            problems.append(Problem(labels[table], row, column, value, message))

    if "patients" in typed:
        p = typed["patients"].with_columns(
            pl.coalesce(pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False),
                        (pl.col("birth_date") + "-01").str.to_date("%Y-%m-%d", strict=False)).alias("__birth"))
        for col in ("onset_date", "diagnosis_date"):
            report("patients", p.filter(pl.col(col) < pl.col("__birth")), col,
                   "is before the birth date; correct one of them")
    if "treatments" in typed:
        t = typed["treatments"]
        report("treatments", t.filter(pl.col("stop_date") < pl.col("start_date")), "stop_date",
               "is before start_date; a course must stop on or after the day it started")
    if "labs" in typed:
        problems.extend(_lab_problems(typed["labs"], labels["labs"], facts.get("labs")))
    if "lesions" in typed:
        problems.extend(_lesion_problems(typed["lesions"], labels["lesions"], facts.get("lesions")))
    for table in ("biopsies", "complications"):
        if table in typed and typed[table].height:
            problems.extend(_site_problems(typed[table], labels[table], table))
    if "chaq" in typed and typed["chaq"].height:
        visits = typed.get("assessments", pl.DataFrame(schema={"patient_id": pl.String, "date": pl.Date}))
        orphans = typed["chaq"].join(visits.select("patient_id", "date"), on=["patient_id", "date"], how="anti")
        report("chaq", orphans, "date",
               "has no assessment of this patient on this date; add the assessment row (the CHAQ "
               "answers belong to a visit)")
    return problems


def _lab_problems(labs: pl.DataFrame, label: str, facts: TableFacts | None = None) -> list[Problem]:
    problems = []
    pairs = _unit_pairs(labs, facts.distinct.get(("test", "unit")) if facts else None)
    wrong = pairs.filter(pl.col("canonical_unit").is_null()).select("test", "unit")
    if wrong.height:
        rows = labs.join(wrong, on=["test", "unit"], how="semi", nulls_equal=True, maintain_order="left")
        for row, test, unit in rows.select(ROW, "test", "unit").iter_rows():
            allowed = ", ".join(lab_tests().test(test).units)
            problems.append(Problem(label, row, "unit", unit, f"is not a unit for {test}; use {allowed}"))
    for row, value in labs.filter(pl.col("ref_high") < pl.col("ref_low")).select(ROW, "ref_high").iter_rows():
        problems.append(Problem(label, row, "ref_high", format_cell(value), "is below ref_low; swap or correct them"))
    return problems


def _unit_key(unit: pl.Expr) -> pl.Expr:
    """``vocabulary.normalise_unit``, vectorised."""
    return unit.str.to_lowercase().str.replace_all(r"\s+", "").alias("__unit_key")


def _unit_pairs(labs: pl.DataFrame, distinct: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each distinct (test, unit) of ``labs`` (``distinct`` when the typing found them) with its
    canonical spelling (null for a unit that does not suit the test): a registry's million lab
    rows hold a few dozen pairs."""
    return (
        (labs.select("test", "unit").unique() if distinct is None else distinct)
        .with_columns(_unit_key(pl.col("unit")))
        .join(lab_unit_table(), on=["test", "__unit_key"], how="left")
        .drop("__unit_key")
    )


def canonical_lab_units(labs: pl.DataFrame, *, pairs: pl.DataFrame | None = None) -> pl.DataFrame:
    """Write each lab unit in its canonical spelling (``mg/dl`` -> ``mg/dL``); units are valid.
    ``pairs``: the distinct (test, unit) of ``labs``, when the typing found them."""
    pairs = _unit_pairs(labs, pairs).filter(pl.col("unit").is_not_null())
    if pairs.filter(pl.col("unit").ne_missing(pl.col("unit_canonical_spelling"))).height == 0:
        return labs  # every unit already in its canonical spelling
    spelling = pairs.select("unit", "unit_canonical_spelling").unique()
    if spelling.get_column("unit").is_unique().all():  # one spelling, whatever the test
        return labs.with_columns(pl.col("unit").replace_strict(
            spelling.get_column("unit"), spelling.get_column("unit_canonical_spelling"), default=None))
    return (
        labs.join(pairs.select("test", "unit", "unit_canonical_spelling"), on=["test", "unit"], how="left",
                  nulls_equal=True, maintain_order="left")
        .with_columns(pl.col("unit_canonical_spelling").alias("unit"))
        .drop("unit_canonical_spelling")
    )


def _lesion_problems(lesions: pl.DataFrame, label: str, facts: TableFacts | None = None) -> list[Problem]:
    problems = []
    # the rules are checked on the distinct (bone, side, segment) of the table, a few hundred,
    # and only the rows of a combination that breaks one are looked at
    sites = ["bone", "side", "segment"]
    distinct = facts.distinct.get(tuple(sites)) if facts else None
    combos = (lesions.select(sites).unique() if distinct is None else distinct).join(
        bone_table(), on="bone", how="left")
    broken = combos.filter(
        ((pl.col("laterality") == "paired") & pl.col("side").is_null())
        | ((pl.col("laterality") == "midline") & pl.col("side").is_not_null())
        | (pl.col("segment").is_not_null() & ~pl.col("allowed_segments").list.contains(pl.col("segment")))
    )
    rows = lesions.join(broken, on=sites, how="inner", nulls_equal=True, maintain_order="left") if broken.height \
        else lesions.head(0).join(broken, on=sites, how="inner", nulls_equal=True)
    for row, bone, side in rows.filter(
        (pl.col("laterality") == "paired") & pl.col("side").is_null()
    ).select(ROW, "bone", "side").iter_rows():
        problems.append(Problem(label, row, "side", side,
                                f"{bone} is a paired bone: give side left or right"))
    for row, bone, side in rows.filter(
        (pl.col("laterality") == "midline") & pl.col("side").is_not_null()
    ).select(ROW, "bone", "side").iter_rows():
        problems.append(Problem(label, row, "side", side,
                                f"{bone} is a midline bone: leave side empty"))
    bad_segment = rows.filter(
        pl.col("segment").is_not_null() & ~pl.col("allowed_segments").list.contains(pl.col("segment"))
    )
    for row, bone, segment, allowed in bad_segment.select(ROW, "bone", "segment", "allowed_segments").iter_rows():
        hint = f"use one of {', '.join(allowed)} or leave it empty" if allowed else "leave it empty"
        problems.append(Problem(label, row, "segment", segment, f"is not a segment of {bone}; {hint}"))
    if facts is not None and facts.unique_lesion_ids:
        return problems  # no lesion_id given twice in a study, found on the codes
    dup = lesions.filter(pl.col("lesion_id").is_not_null()).with_columns(
        pl.len().over("study_id", "lesion_id").alias("__n"),
        pl.col(ROW).min().over("study_id", "lesion_id").alias("__first"),
    ).filter((pl.col("__n") > 1) & (pl.col(ROW) != pl.col("__first")))
    for row, value, first in dup.select(ROW, "lesion_id", "__first").iter_rows():
        problems.append(Problem(label, row, "lesion_id", value,
                                f"is also given to row {first} of the same study; a lesion_id names one "
                                "lesion of a study"))
    return problems


_VERTEBRAL = ("vertebral_fracture", "vertebral_collapse")


def _site_problems(frame: pl.DataFrame, label: str, table: str) -> list[Problem]:
    """The site rules of a biopsy or a complication (version 1.1). Unlike a lesion's, the side
    of a paired bone may be unknown (empty); but a side needs a bone, a midline bone takes no
    side, and a vertebral fracture or collapse is of a vertebra (or of no bone given). Checked
    on the table's distinct sites, the rows looked at only where one breaks a rule."""
    problems: list[Problem] = []
    kind = ["complication"] if table == "complications" else []
    sites = frame.select("bone", "side", *kind).unique().join(bone_table(), on="bone", how="left")
    side_alone = pl.col("side").is_not_null() & pl.col("bone").is_null()
    midline = pl.col("side").is_not_null() & (pl.col("laterality") == "midline")
    not_vertebra = (pl.col("complication").is_in(list(_VERTEBRAL)) & pl.col("bone").is_not_null()
                    & (pl.col("region") != "spine")) if kind else pl.lit(False)
    broken = sites.filter(side_alone | midline | not_vertebra)
    if broken.height == 0:
        return problems
    rows = frame.join(broken, on=["bone", "side", *kind], how="inner", nulls_equal=True, maintain_order="left")
    for row, side in rows.filter(side_alone).select(ROW, "side").iter_rows():
        problems.append(Problem(label, row, "side", side, "is given without a bone; give the bone or leave side empty"))
    for row, bone, side in rows.filter(midline).select(ROW, "bone", "side").iter_rows():
        problems.append(Problem(label, row, "side", side, f"{bone} is a midline bone: leave side empty"))
    if kind:
        for row, bone, what in rows.filter(not_vertebra).select(ROW, "bone", "complication").iter_rows():
            problems.append(Problem(label, row, "bone", bone,
                                    f"is not a vertebra; a {what.replace('_', ' ')} is of a vertebra (C1 to L5): "
                                    "correct the bone or the complication"))
    return problems
