"""Time-to-event analyses of a cohort: time to PGA none or minimal, time to a first new lesion.

Time runs from the index date (day 0) and is analysed with the Kaplan-Meier estimate of
``survival.py``. All patients are handled at once with Polars.

- **Time to PGA none or minimal**: the event is the first assessment after the index date
  (day > 0, so a day-0 baseline visit is not an outcome) whose PGA is none or minimal; a patient
  without one is censored at the last assessment (the cohort's ``last_assessment_date``).
  Patients whose last assessment is before the index date are left out and listed.
- **Time to a first new lesion**: every study of the protocol's imaging modality dated after
  the patient's baseline study (``study@baseline``) and after the index date is matched against
  the baseline study with ``lesion_fates`` (one ``pair`` per later study, all at once); the
  event is the first such study with an active lesion matched to no baseline lesion. A patient
  without one is censored at the last such study. Patients without a baseline study, or with
  no study after it and after the index date, are left out and listed with the reason.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from ..engine.evaluate import Evaluation
from ..engine.events import first_new_lesion
from ..engine.timepoints import day_expr
from ..exchange.dataset import Dataset
from ._values import analysis_table
from ..statistics.survival import PatientRows, SurvivalResult, kaplan_meier

__all__ = ["NEW_LESION", "PGA_NONE_OR_MINIMAL", "time_to_events", "time_to_new_lesion",
           "time_to_pga_none_or_minimal"]

PGA_NONE_OR_MINIMAL = "time_to_pga_none_or_minimal"
NEW_LESION = "time_to_first_new_lesion"


def time_to_events(evaluation: Evaluation, dataset: Dataset,
                   times_years: tuple[float, ...] = (0.5, 1, 2)) -> dict[str, SurvivalResult]:
    """Both analyses over the eligible cohort, keyed ``time_to_pga_none_or_minimal`` and
    ``time_to_first_new_lesion``."""
    return {
        PGA_NONE_OR_MINIMAL: time_to_pga_none_or_minimal(evaluation, dataset, times_years),
        NEW_LESION: time_to_new_lesion(evaluation, dataset, times_years),
    }


def time_to_pga_none_or_minimal(evaluation: Evaluation, dataset: Dataset,
                                times_years: tuple[float, ...] = (0.5, 1, 2)) -> SurvivalResult:
    cohort = evaluation.cohort.eligible.select("patient_id", "index_date", "last_assessment_date")
    first = (
        dataset["assessments"].join(cohort, on="patient_id", how="inner")
        .with_columns(day_expr().alias("day"))
        .filter((pl.col("day") > 0) & pl.col("pga").is_in(["none", "minimal"]))
        .group_by("patient_id").agg(pl.col("day").min().alias("event_day"))
    )
    table = cohort.join(first, on="patient_id", how="left").with_columns(
        day_expr("last_assessment_date").alias("last_day"))
    excluded = table.filter(pl.col("event_day").is_null() & (
        pl.col("last_day").is_null() | (pl.col("last_day") < 0)))
    used = table.join(excluded.select("patient_id"), on="patient_id", how="anti")
    return _fit(
        used, excluded.select("patient_id", pl.lit("no assessment on or after the index date").alias("reason")),
        label="Time to PGA none or minimal",
        definition=("Days from the index date to the first assessment after it with PGA none or minimal; "
                    "censored at the last assessment."),
        times_years=times_years,
    )


def time_to_new_lesion(evaluation: Evaluation, dataset: Dataset,
                       times_years: tuple[float, ...] = (0.5, 1, 2)) -> SurvivalResult:
    modality = evaluation.protocol.imaging_modality
    modality_words = modality.replace("_", " ")
    patients = analysis_table(evaluation, dataset)
    baseline = (patients.select("patient_id", "index_date", pl.col("study@baseline").alias("baseline_study"),
                                pl.col("study@baseline.date").alias("baseline_date"))
                if "study@baseline" in patients.columns else
                patients.select("patient_id", "index_date", pl.lit(None, pl.String).alias("baseline_study"),
                                pl.lit(None, pl.Date).alias("baseline_date")))
    per_patient = first_new_lesion(dataset, baseline.drop_nulls("baseline_study")
                                   .with_columns(pl.col("index_date").alias("start")), modality)
    table = baseline.join(per_patient, on="patient_id", how="left")
    reason = (pl.when(pl.col("baseline_study").is_null()).then(pl.lit(f"no baseline {modality_words} study"))
              .when(pl.col("last_day").is_null())
              .then(pl.lit(f"no {modality_words} study after the baseline study and the index date")))
    table = table.with_columns(reason.alias("reason"))
    return _fit(
        table.filter(pl.col("reason").is_null()), table.filter(pl.col("reason").is_not_null()).select(
            "patient_id", "reason"),
        label="Time to a first new lesion",
        definition=(f"Days from the index date to the first {modality_words} study after the baseline study with an "
                    "active lesion matched to no lesion of the baseline study; censored at the last such study."),
        times_years=times_years,
    )


def _fit(used: pl.DataFrame, excluded: pl.DataFrame, *, label: str, definition: str,
         times_years: tuple[float, ...]) -> SurvivalResult:
    """``used`` has ``patient_id``, ``event_day`` (null when censored) and ``last_day``."""
    subjects = used.sort("patient_id").select(
        "patient_id",
        pl.coalesce("event_day", "last_day").cast(pl.Int64).alias("days"),
        pl.col("event_day").is_not_null().alias("event"),
    )
    result = kaplan_meier(subjects["days"], subjects["event"], label=label,
                          times_years=times_years, definition=definition)
    return replace(result, subjects=PatientRows(subjects), excluded=PatientRows(excluded.sort("patient_id")))
