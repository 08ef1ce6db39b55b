"""Diagnostic criteria per patient: the Jansson score, NBODS and the Bristol criteria.

Inputs come from the optional ``diagnosis`` table. Where a site-based input is empty
(``lesion_count``, ``bones_involved``, ``multifocal``, ``femur``, ``clavicle_only``,
``vertebral_clavicular_or_sternal_lesion``, ``symmetric_lesions``) it is derived from the
active lesions of the patient's earliest imaging study that shows any, and the output names
that study. Every other input must be recorded; an instrument whose inputs are incomplete is
reported with the inputs it lacks, never scored on a guess. The instruments themselves are
``cnotrack.instruments``; this module only gathers their inputs, for all patients at once.
"""

from __future__ import annotations

import polars as pl

from ..exchange.dataset import Dataset
from ..instruments import bristol_criteria, jansson_score, nbods_score
from .lesion_tracking import lesion_present

__all__ = ["DERIVED_INPUTS", "diagnostic_criteria", "site_inputs"]

DERIVED_INPUTS = ("lesion_count", "bones_involved", "multifocal", "femur", "clavicle_only",
                  "vertebral_clavicular_or_sternal_lesion", "symmetric_lesions")
_JANSSON = ("normal_blood_count", "symmetric_lesions", "marginal_sclerosis", "normal_temperature",
            "vertebral_clavicular_or_sternal_lesion", "lesion_count", "crp_mg_l")
_NBODS = ("crp_mg_l", "multifocal", "femur", "band_neutrophils_per_ul")
_BRISTOL = ("typical_clinical", "typical_radiological", "bones_involved", "clavicle_only", "crp_mg_l",
            "biopsy_inflammatory_sterile")
_AXIAL = pl.col("bone").str.contains(r"^[CTL]\d+$") | pl.col("bone").is_in(["clavicle", "sternum"])


def site_inputs(dataset: Dataset) -> pl.DataFrame:
    """Per patient, the site-based inputs read from the earliest imaging study with active lesions."""
    lesions = dataset["lesions"].filter(lesion_present())
    studies = dataset["imaging"].join(lesions.select("study_id").unique(), on="study_id", how="semi")
    first = studies.sort("patient_id", "date", "study_id").unique("patient_id", keep="first")
    rows = lesions.join(first.select("patient_id", "study_id"), on="study_id", how="inner")
    symmetric = rows.group_by("patient_id", "bone").agg(
        ((pl.col("side") == "left").any() & (pl.col("side") == "right").any()).alias("both"))
    return (
        rows.group_by("patient_id").agg(
            pl.col("study_id").first().alias("derived_from_study"),
            pl.len().cast(pl.Int64).alias("lesion_count"),
            pl.col("bone").n_unique().cast(pl.Int64).alias("bones_involved"),
            (pl.len() > 1).alias("multifocal"),
            (pl.col("bone") == "femur").any().alias("femur"),
            (pl.col("bone") == "clavicle").all().alias("clavicle_only"),
            _AXIAL.any().alias("vertebral_clavicular_or_sternal_lesion"),
        )
        .join(symmetric.group_by("patient_id").agg(pl.col("both").any().alias("symmetric_lesions")),
              on="patient_id", how="left")
    )


def diagnostic_criteria(dataset: Dataset) -> pl.DataFrame:
    """One row per patient with a ``diagnosis`` row: each instrument's result or missing inputs."""
    diagnosis = dataset["diagnosis"]
    if diagnosis.height == 0:
        return pl.DataFrame(schema={"patient_id": pl.String})
    derived = site_inputs(dataset)
    merged = diagnosis.join(derived, on="patient_id", how="left", suffix="__derived")
    merged = merged.with_columns(
        [pl.coalesce(pl.col(c), pl.col(f"{c}__derived")).alias(c) for c in DERIVED_INPUTS]
        + [pl.when(pl.any_horizontal([pl.col(c).is_null() & pl.col(f"{c}__derived").is_not_null()
                                      for c in DERIVED_INPUTS]))
           .then(pl.col("derived_from_study")).alias("derived_from_study")]
    )
    out = []
    for row in merged.sort("patient_id").iter_rows(named=True):
        record: dict[str, object] = {"patient_id": row["patient_id"],
                                     "derived_from_study": row["derived_from_study"]}
        record.update(_scored("jansson", _JANSSON, row, jansson_score))
        record.update(_scored("nbods", _NBODS, row, nbods_score))
        bristol = bristol_criteria(**{k: row[k] for k in _BRISTOL})
        record.update({"bristol_status": bristol.extra.get("status"), "bristol_branch": bristol.extra.get("branch"),
                       "bristol_missing": ", ".join(bristol.extra.get("missing") or []) or None,
                       "bristol_interpretation": bristol.interpretation})
        out.append(record)
    return pl.DataFrame(out)


def _scored(name: str, keys: tuple[str, ...], row: dict, scorer) -> dict[str, object]:
    missing = [k for k in keys if row[k] is None]
    if missing:
        return {f"{name}_score": None, f"{name}_interpretation": None, f"{name}_missing": ", ".join(missing)}
    result = scorer(**{k: row[k] for k in keys})
    return {f"{name}_score": result.score, f"{name}_interpretation": result.interpretation,
            f"{name}_missing": None}
