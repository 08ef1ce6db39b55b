"""Status at the last follow-up: on treatment at the last assessment, and the PGA recorded then.

The last follow-up is the patient's latest assessment. On treatment: a systemic course
(antibiotics aside) started on or before that date and ongoing or stopped on or after it. The
PGA is the one of that visit, missing when that visit has none (not the closest PGA at any
distance). Both are missing for a patient without an assessment.
"""

from __future__ import annotations

import polars as pl

from ..exchange.dataset import Dataset
from ..engine.cohort import last_assessments
from .treatment_course import NOT_CNO_TREATMENT, systemic_courses

__all__ = ["on_treatment_at_last", "pga_at_last"]


def on_treatment_at_last(dataset: Dataset) -> pl.DataFrame:
    """``course.on_treatment_at_last``: true, false, or null without an assessment."""
    name = "course.on_treatment_at_last"
    running = systemic_courses(dataset).filter(
        ~pl.col("drug_class").fill_null("").is_in(NOT_CNO_TREATMENT)
        & (pl.col("start_date") <= pl.col("last_assessment_date"))
        & (pl.col("stop_date").is_null() | (pl.col("stop_date") >= pl.col("last_assessment_date")))
    ).select("patient_id").unique().with_columns(pl.lit(True).alias("__on"))
    return (
        dataset.patients.select("patient_id").join(last_assessments(dataset), on="patient_id", how="left")
        .join(running, on="patient_id", how="left")
        .select("patient_id", pl.when(pl.col("last_assessment_date").is_null()).then(None)
                .otherwise(pl.col("__on").fill_null(False)).alias(name))
    )


def pga_at_last(dataset: Dataset) -> pl.DataFrame:
    """``course.pga_at_last``: the PGA of the latest assessment (null when it has none)."""
    name = "course.pga_at_last"
    last = last_assessments(dataset).join(
        dataset["assessments"].select("patient_id", "date", "pga"),
        left_on=["patient_id", "last_assessment_date"], right_on=["patient_id", "date"], how="left")
    return dataset.patients.select("patient_id").join(
        last.select("patient_id", pl.col("pga").alias(name)), on="patient_id", how="left")
