"""Flares as data: a course of a definition's ``restart`` selection started more than
``gap_days`` after the end of the patient's previous course of it.

"The previous course's end" is the latest stop date among the courses of the selection that
started before (on the same start date, the longer course first); an ongoing course never ends,
so no later course is a flare while it runs. The patient's first course of the selection is not
a flare. Topical courses are left out when the selection says ``systemic_only``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ..exchange.dataset import Dataset
from ..protocols.model import FlareDefinition

__all__ = ["flare_counts", "flare_dates"]

_NEVER = dt.date(9999, 12, 31)


def flare_dates(dataset: Dataset, definition: FlareDefinition) -> pl.DataFrame:
    """``patient_id``, ``date``: the start of each flare course, sorted."""
    from ..engine.treatments import selected_courses  # the engine imports this package: import late

    courses = (
        selected_courses(dataset["treatments"], definition.restart)
        .with_columns(pl.col("stop_date").fill_null(_NEVER).alias("__end"))
        .sort(["patient_id", "start_date", "__end"], descending=[False, False, True])
    )
    previous_end = pl.col("__end").cum_max().shift(1).over("patient_id")
    flares = courses.with_columns(previous_end.alias("__previous")).filter(
        pl.col("__previous").is_not_null()
        & ((pl.col("start_date") - pl.col("__previous")).dt.total_days() > definition.gap_days))
    return flares.select("patient_id", pl.col("start_date").alias("date")).sort("patient_id", "date")


def flare_counts(dataset: Dataset, name: str, definition: FlareDefinition) -> pl.DataFrame:
    """``course.flares.<name>``: the number of flares per patient (0 without one)."""
    column = f"course.flares.{name}"
    counts = flare_dates(dataset, definition).group_by("patient_id").agg(pl.len().cast(pl.Int64).alias(column))
    return (dataset.patients.select("patient_id").join(counts, on="patient_id", how="left")
            .with_columns(pl.col(column).fill_null(0)))
