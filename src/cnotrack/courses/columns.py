"""Course measures as per-patient columns, for a user's script and for the engine.

``course_measures`` computes measures for every patient of a dataset; ``course_columns`` is the
engine's hook: the measures a protocol names, with study-based ones read on the study of the
protocol's modality chosen at a timepoint (``course.<measure>@<timepoint>``) or, without one, on
the patient's earliest study of that modality (``course.<measure>``).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import polars as pl

from ..exchange.dataset import Dataset
from ..protocols.model import FlareDefinition, Protocol
from . import flares as _flares
from . import status as _status
from . import treatment_course as _tc
from .registry import column_name, course_measure, flare_definitions
from .sites import SITE_MEASURES, earliest_studies, site_measures

__all__ = ["course_columns", "course_measures"]

_PATIENT_MEASURES = {
    "classes_started": _tc.classes_started, "lines_reached": _tc.lines_reached,
    "nsaids_tried": _tc.nsaids_tried, "nsaid_monotherapy_days": _tc.nsaid_monotherapy_days,
    "second_line_days": _tc.second_line_days, "on_treatment_at_last": _status.on_treatment_at_last,
    "pga_at_last": _status.pga_at_last,
}


def _patient_measure(dataset: Dataset, name: str, flares: Mapping[str, FlareDefinition]) -> pl.DataFrame:
    if name in _PATIENT_MEASURES:
        return _PATIENT_MEASURES[name](dataset)
    if name.startswith("days_on_"):
        return _tc.class_days(dataset, name.removeprefix("days_on_"))
    flare = name.removeprefix("flares.")
    return _flares.flare_counts(dataset, flare, flares[flare])


def course_measures(dataset: Dataset, measures: Iterable[str], *, modality: str = "bone_scintigraphy",
                    flares: Mapping[str, FlareDefinition] | None = None) -> pl.DataFrame:
    """``patient_id`` and ``course.<measure>`` for each of ``measures``, one row per patient of
    ``dataset``; study-based measures on each patient's earliest study of ``modality``; ``flares``
    are flare definitions (a protocol's) added to the shipped ones or overriding them by name."""
    known = flare_definitions(flares)  # the shipped ones, with the caller's added or overriding
    table = dataset.patients.select("patient_id")
    names = list(dict.fromkeys(measures))
    for name in names:
        course_measure(name, flares)  # unknown names fail here, with the nearest ones
    if any(n in SITE_MEASURES for n in names):
        studies = dataset.patients.select("patient_id").join(earliest_studies(dataset, modality),
                                                            on="patient_id", how="left")
        sites = site_measures(dataset, studies)
        table = table.join(sites.select("patient_id", *[column_name(n) for n in names if n in SITE_MEASURES]),
                           on="patient_id", how="left")
    for name in names:
        if name not in SITE_MEASURES:
            table = table.join(_patient_measure(dataset, name, known), on="patient_id", how="left")
    return table.select("patient_id", *[column_name(n) for n in names])


def course_columns(dataset: Dataset, protocol: Protocol, cohort: pl.DataFrame,
                   wanted: Iterable[tuple[str, str | None]]) -> pl.DataFrame:
    """``patient_id`` of ``cohort`` (the eligible table, with ``index_date`` and
    ``last_assessment_date``) and a column per (measure, timepoint or None) of ``wanted``."""
    from ..engine.timepoints import at_timepoint  # the engine imports this module: import late

    wanted = sorted(set(wanted), key=lambda w: (w[0], w[1] or ""))
    table = cohort.select("patient_id")
    plain = [m for m, at in wanted if at is None]
    if plain:
        table = table.join(course_measures(dataset, plain, modality=protocol.imaging_modality,
                                           flares=protocol.flare_definitions),
                           on="patient_id", how="left")
    studies = dataset["imaging"].filter(pl.col("modality") == protocol.imaging_modality).select(
        "patient_id", "study_id", "date")
    for at in sorted({at for _, at in wanted if at is not None}):
        chosen = at_timepoint(studies, cohort, protocol.timepoint(at), tiebreak=["study_id"])
        rows = cohort.select("patient_id").join(chosen.select("patient_id", "study_id"), on="patient_id", how="left")
        names = [column_name(m, at) for m, a in wanted if a == at]
        table = table.join(site_measures(dataset, rows, f"@{at}").select("patient_id", *names),
                           on="patient_id", how="left")
    return table
