"""``at_timepoints`` (one pass over a table for several timepoints and variables, as the patient
table uses it) chooses exactly the rows that the rule chooses one timepoint at a time: the
reference below is the former ``at_timepoint`` (a join on the cohort, then a filter and a sort per
timepoint), kept here as the test's definition; ``at_timepoint`` itself is now ``at_timepoints``
with one timepoint."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnotrack.engine.timepoints import at_timepoint, at_timepoints, day_expr
from cnotrack.protocols.model import Timepoint

DAY0 = dt.date(2020, 1, 1)
TIMEPOINTS = [
    Timepoint(id="baseline", label="baseline", target_day=0, window=(-9, 3)),
    Timepoint(id="month6", label="6 months", target_day=10, window=(6, 14)),
    Timepoint(id="last", label="last", anchor="last_assessment"),
    Timepoint(id="late", label="late", anchor="last_assessment", window=(-5, 0)),
]

patients = st.lists(st.sampled_from(["P1", "P2", "P3", "P4"]), min_size=1, max_size=4, unique=True)
rows = st.lists(st.tuples(st.sampled_from(["P1", "P2", "P3", "P4", "P9"]),
                          st.one_of(st.none(), st.integers(-12, 20)),
                          st.sampled_from(["CRP", "ESR"]),
                          st.one_of(st.none(), st.integers(0, 3)),
                          st.sampled_from(["S1", "S2", "S3"])), max_size=40)


def _cohort(ids: list[str], offsets: list[int], lasts: list[int | None]) -> pl.DataFrame:
    return pl.DataFrame({
        "patient_id": ids,
        "index_date": [DAY0 + dt.timedelta(days=o) for o in offsets],
        "last_assessment_date": [None if d is None else DAY0 + dt.timedelta(days=d) for d in lasts],
    }, schema={"patient_id": pl.String, "index_date": pl.Date, "last_assessment_date": pl.Date})


def _rows(cells) -> pl.DataFrame:
    """The rows, one per patient, date and study (as in a valid table, whose rows differ by key:
    rows alike in all that decides the choice would leave it to chance in either function)."""
    return pl.DataFrame(
        [(p, None if d is None else DAY0 + dt.timedelta(days=d), t, v, s) for p, d, t, v, s in cells],
        schema={"patient_id": pl.String, "date": pl.Date, "test": pl.String, "value": pl.Int64,
                "study_id": pl.String}, orient="row").unique(["patient_id", "date", "study_id"], maintain_order=True)


def reference_at_timepoint(rows: pl.DataFrame, cohort: pl.DataFrame, timepoint: Timepoint, *,
                           by: list[str] | None = None, tiebreak: list[str] | None = None) -> pl.DataFrame:
    """The row chosen per patient (and ``by`` group) for ``timepoint``, by the module's rule."""
    joined = rows.join(cohort.select("patient_id", "index_date", "last_assessment_date"),
                       on="patient_id", how="inner").with_columns(day_expr("date").alias("day"))
    if timepoint.anchor == "last_assessment":
        target = (pl.col("last_assessment_date") - pl.col("index_date")).dt.total_days()
        offset, target_offset = pl.col("day") - target, 0
    else:
        offset, target_offset = pl.col("day"), timepoint.target_day or 0
    window = timepoint.window
    if window is None and timepoint.anchor == "last_assessment":
        window = (0, 0)
    if window is not None:
        joined = joined.filter((offset >= window[0]) & (offset <= window[1]))
    return (joined.with_columns((offset - target_offset).abs().alias("__distance"))
            .sort(["__distance", "date", *(tiebreak or [])])
            .unique(subset=["patient_id", *(by or [])], keep="first", maintain_order=True)
            .drop("__distance", "index_date", "last_assessment_date"))


def _same(one: pl.DataFrame, many: pl.DataFrame, keys: list[str]) -> None:
    assert one.sort(keys).equals(many.select(one.columns).sort(keys), null_equal=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients, st.lists(st.integers(-3, 3), min_size=4, max_size=4),
       st.lists(st.one_of(st.none(), st.integers(0, 20)), min_size=4, max_size=4), rows)
def test_one_pass_for_several_timepoints_chooses_what_each_timepoint_chooses(ids, offsets, lasts, cells):
    cohort = _cohort(ids, offsets[:len(ids)], lasts[:len(ids)])
    table = _rows(cells)
    # a value per variable (rows with it given), as the assessments' PGA and fields
    has_value = pl.col("value").is_not_null()
    wanted = [(f"value@{tp.id}", tp, has_value) for tp in TIMEPOINTS]
    wanted += [(f"any@{tp.id}", tp, None) for tp in TIMEPOINTS]
    chosen = at_timepoints(table, cohort, wanted, tiebreak=["study_id"])
    assert chosen.columns == [*table.columns, "day", "timepoint"]
    for label, tp, given_value in wanted:
        candidates = table.filter(given_value) if given_value is not None else table
        _same(reference_at_timepoint(candidates, cohort, tp, tiebreak=["study_id"]),
              chosen.filter(pl.col("timepoint") == label).drop("timepoint"), ["patient_id"])
        one = at_timepoint(candidates, cohort, tp, tiebreak=["study_id"])
        assert one.columns == [*table.columns, "day"]
        _same(reference_at_timepoint(candidates, cohort, tp, tiebreak=["study_id"]), one, ["patient_id"])
    # per group (the labs by test), each timepoint with its own tests
    by_test = at_timepoints(table, cohort, [(tp.id, tp, pl.col("test").is_in(["CRP"] if i % 2 else ["CRP", "ESR"]))
                                            for i, tp in enumerate(TIMEPOINTS)], by=["test"], tiebreak=["study_id"])
    for i, tp in enumerate(TIMEPOINTS):
        tests = ["CRP"] if i % 2 else ["CRP", "ESR"]
        _same(reference_at_timepoint(table.filter(pl.col("test").is_in(tests)), cohort, tp, by=["test"],
                                     tiebreak=["study_id"]),
              by_test.filter(pl.col("timepoint") == tp.id).drop("timepoint"), ["patient_id", "test"])


def test_no_row_and_no_patient_choose_nothing():
    cohort = _cohort(["P1"], [0], [5])
    empty = _rows([])
    chosen = at_timepoints(empty, cohort, [("b", TIMEPOINTS[0], None)])
    assert chosen.height == 0 and chosen.columns == [*empty.columns, "day", "timepoint"]
    assert at_timepoints(_rows([("P9", 0, "CRP", 1, "S1")]), cohort, [("b", TIMEPOINTS[0], None)]).height == 0
    nobody = cohort.clear()
    assert at_timepoints(_rows([("P1", 0, "CRP", 1, "S1")]), nobody, [("b", TIMEPOINTS[0], None)]).height == 0
