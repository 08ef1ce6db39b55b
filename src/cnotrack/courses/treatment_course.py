"""Measures of the courses of treatment: classes started, NSAIDs tried, days on each class,
NSAID monotherapy, lines reached and the time from diagnosis to second-line treatment.

Every rule is the one written in ``measures.yaml``: topical courses are left out; an ongoing
course runs to the patient's last assessment (to its own start when there is none after it);
the days of an interval are its end minus its start; overlapping or touching courses of one
class are merged before their days are added. All patients are handled at once.
"""

from __future__ import annotations

import polars as pl

from ..engine.cohort import last_assessments
from ..engine.treatments import systemic_expr
from ..exchange.dataset import Dataset
from ..vocabulary import drugs, lines

__all__ = ["class_days", "classes_started", "course_intervals", "lines_reached",
           "merged_intervals", "nsaid_monotherapy_days", "nsaids_tried", "second_line_days",
           "second_line_times", "systemic_courses"]

#: classes that do not count as treatment of CNO in classes_started, monotherapy and status
NOT_CNO_TREATMENT = ("antibiotic",)


def _drug_table() -> pl.DataFrame:
    rows = [(d.name, d.drug_class, d.target) for d in drugs().drugs]
    return pl.DataFrame(rows, schema={"drug": pl.String, "drug_class": pl.String, "target": pl.String},
                        orient="row")


def systemic_courses(dataset: Dataset) -> pl.DataFrame:
    """Every non-topical course with ``drug_class``, ``target``, ``start`` and ``end`` (the stop
    date, or for an ongoing course the last assessment, never before the start) and ``ongoing``."""
    t = dataset["treatments"].filter(systemic_expr())
    return (
        t.select("patient_id", "drug", "start_date", "stop_date")
        .join(_drug_table(), on="drug", how="left")
        .join(last_assessments(dataset), on="patient_id", how="left")
        .with_columns(
            pl.col("start_date").alias("start"),
            pl.col("stop_date").is_null().alias("ongoing"),
            pl.max_horizontal("start_date", pl.coalesce("stop_date", "last_assessment_date")).alias("end"),
        )
    )


def merged_intervals(intervals: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The union of the ``start``-``end`` intervals per ``keys``: overlapping or touching ones merged.

    Sorted by start, an interval opens a new block when it starts after the latest end of the
    intervals before it; each block runs from its first start to its latest end."""
    ordered = intervals.select(*keys, "start", "end").sort([*keys, "start", "end"])
    return (
        ordered.with_columns(pl.col("end").cum_max().shift(1).over(keys).alias("__reach"))
        .with_columns((pl.col("__reach").is_null() | (pl.col("start") > pl.col("__reach")))
                      .cast(pl.Int32).cum_sum().over(keys).alias("__block"))
        .group_by([*keys, "__block"]).agg(pl.col("start").min(), pl.col("end").max())
        .drop("__block").sort([*keys, "start"])
    )


def course_intervals(dataset: Dataset, classes: list[str]) -> pl.DataFrame:
    """Merged intervals of the courses of any of ``classes`` per patient (one union)."""
    courses = systemic_courses(dataset).filter(pl.col("drug_class").is_in(classes))
    return merged_intervals(courses, ["patient_id"])


def _days(intervals: pl.DataFrame, name: str) -> pl.DataFrame:
    return intervals.group_by("patient_id").agg(
        (pl.col("end") - pl.col("start")).dt.total_days().sum().cast(pl.Int64).alias(name))


def _all_patients(dataset: Dataset, values: pl.DataFrame, name: str, fill=None) -> pl.DataFrame:
    out = dataset.patients.select("patient_id").join(values, on="patient_id", how="left")
    return out.with_columns(pl.col(name).fill_null(fill)) if fill is not None else out


def class_days(dataset: Dataset, drug_class: str) -> pl.DataFrame:
    """``course.days_on_<class>``: days covered by the union of the class's courses (0 without one)."""
    name = f"course.days_on_{drug_class}"
    return _all_patients(dataset, _days(course_intervals(dataset, [drug_class]), name), name, 0)


def classes_started(dataset: Dataset) -> pl.DataFrame:
    """``course.classes_started``: distinct classes of the systemic courses, antibiotics aside."""
    name = "course.classes_started"
    counts = systemic_courses(dataset).filter(
        pl.col("drug_class").is_not_null() & ~pl.col("drug_class").is_in(NOT_CNO_TREATMENT)
    ).group_by("patient_id").agg(pl.col("drug_class").n_unique().cast(pl.Int64).alias(name))
    return _all_patients(dataset, counts, name, 0)


def nsaids_tried(dataset: Dataset) -> pl.DataFrame:
    """``course.nsaids_tried``: distinct NSAIDs of the systemic courses."""
    name = "course.nsaids_tried"
    counts = systemic_courses(dataset).filter(pl.col("drug_class") == "nsaid").group_by("patient_id").agg(
        pl.col("drug").n_unique().cast(pl.Int64).alias(name))
    return _all_patients(dataset, counts, name, 0)


def nsaid_monotherapy_days(dataset: Dataset) -> pl.DataFrame:
    """``course.nsaid_monotherapy_days``: NSAID days minus the days that the NSAID union shares
    with the union of the other classes' courses (antibiotics aside). Both unions are made of
    disjoint intervals, so the pairwise overlaps add up to the shared days exactly."""
    name = "course.nsaid_monotherapy_days"
    classes = [c for c in drugs().classes if c != "nsaid" and c not in NOT_CNO_TREATMENT]
    nsaid = course_intervals(dataset, ["nsaid"])
    other = course_intervals(dataset, classes).rename({"start": "o_start", "end": "o_end"})
    shared = (
        nsaid.join(other, on="patient_id", how="inner")
        .with_columns((pl.min_horizontal("end", "o_end") - pl.max_horizontal("start", "o_start"))
                      .dt.total_days().clip(lower_bound=0).alias("__shared"))
        .group_by("patient_id").agg(pl.col("__shared").sum().alias("__shared"))
    )
    days = _days(nsaid, "__nsaid").join(shared, on="patient_id", how="left").select(
        "patient_id", (pl.col("__nsaid") - pl.col("__shared").fill_null(0)).cast(pl.Int64).alias(name))
    return _all_patients(dataset, days, name, 0)


def _line_starts(dataset: Dataset, line: str) -> pl.DataFrame:
    """``patient_id``, ``start_date`` of the course that starts ``line`` for each patient who
    reached it (``cnotrack.engine.treatments.line_courses``, lines of vocabularies/lines.yaml)."""
    from ..engine.treatments import line_courses  # the engine imports this package: import late

    return line_courses(dataset["treatments"], line).select("patient_id", "start_date")


def lines_reached(dataset: Dataset) -> pl.DataFrame:
    """``course.lines_reached``: the highest step of the treatment ladder the patient reached
    (the ``step`` of the lines of vocabularies/lines.yaml: 1 first line, 2 second line), 0 for none."""
    name = "course.lines_reached"
    reached = [_line_starts(dataset, line).select("patient_id", pl.lit(spec.step, pl.Int64).alias("__step"))
               for line, spec in lines().lines.items() if spec.step is not None]
    counts = pl.concat(reached).group_by("patient_id").agg(pl.col("__step").max().alias(name))
    return _all_patients(dataset, counts, name, 0)


def second_line_times(dataset: Dataset) -> pl.DataFrame:
    """``patient_id``, ``days``, ``event``: days from diagnosis_date to the first second-line
    course (event true), else to the last assessment (censored, event false); patients without a
    diagnosis date, or without an assessment and a second-line course, are left out; a second
    line started before diagnosis gives negative days and is kept (the caller decides)."""
    starts = _line_starts(dataset, "second_line").rename({"start_date": "__second"})
    table = (
        dataset.patients.select("patient_id", "diagnosis_date")
        .join(starts, on="patient_id", how="left")
        .join(last_assessments(dataset), on="patient_id", how="left")
        .filter(pl.col("diagnosis_date").is_not_null())
        .with_columns(pl.col("__second").is_not_null().alias("event"),
                      (pl.coalesce("__second", "last_assessment_date") - pl.col("diagnosis_date"))
                      .dt.total_days().cast(pl.Int64).alias("days"))
    )
    return table.filter(pl.col("days").is_not_null()).select("patient_id", "days", "event").sort("patient_id")


def second_line_days(dataset: Dataset) -> pl.DataFrame:
    """``course.second_line_days``: days from diagnosis to the first second-line course, missing
    without a diagnosis date or a second-line course."""
    name = "course.second_line_days"
    times = second_line_times(dataset).filter(pl.col("event")).select("patient_id", pl.col("days").alias(name))
    return _all_patients(dataset, times, name)
