"""Sites of disease on one imaging study per patient: regions and bones affected, symmetry,
unifocal or multifocal.

Only active lesions count (an inactive lesion counts as not present, as in lesion tracking; a
not_assessed row (format 1.1) is no lesion present either).
Regions are those of ``vocabularies/anatomy.yaml``; a bone of each side is a bone of its own
(left and right femur are two bones); a study is symmetric when one bone has active lesions on
both its left and its right side. A study without lesion rows found none (0 regions, not
symmetric, neither unifocal nor multifocal); a patient without a study is missing.
"""

from __future__ import annotations

import polars as pl

from ..engine.lesion_tracking import lesion_present
from ..exchange.dataset import Dataset
from ..vocabulary import anatomy

__all__ = ["SITE_MEASURES", "earliest_studies", "site_measures"]

SITE_MEASURES = ("regions_affected", "regions_list", "bones_affected", "symmetric", "unifocal", "multifocal")


def _regions() -> pl.DataFrame:
    a = anatomy()
    order = {r: i for i, r in enumerate(a.regions)}
    return pl.DataFrame(
        [(b.name, b.region, a.regions[b.region], order[b.region]) for b in a.bones],
        schema={"bone": pl.String, "region": pl.String, "region_label": pl.String, "region_order": pl.Int64},
        orient="row")


def earliest_studies(dataset: Dataset, modality: str) -> pl.DataFrame:
    """``patient_id``, ``study_id``: each patient's earliest study of ``modality`` (ties by study_id)."""
    return (dataset["imaging"].filter(pl.col("modality") == modality)
            .sort("patient_id", "date", "study_id").unique("patient_id", keep="first", maintain_order=True)
            .select("patient_id", "study_id"))


def site_measures(dataset: Dataset, studies: pl.DataFrame, suffix: str = "") -> pl.DataFrame:
    """Per row of ``studies`` (``patient_id``, ``study_id``; study null = no study): every site
    measure as ``course.<measure><suffix>`` (suffix ``@<timepoint>`` or empty)."""
    lesions = (
        dataset["lesions"].filter(lesion_present())
        .join(studies.select("study_id").drop_nulls(), on="study_id", how="semi")
        .join(_regions(), on="bone", how="left")
    )
    per_bone = lesions.group_by("study_id", "bone").agg(
        ((pl.col("side") == "left").any() & (pl.col("side") == "right").any()).alias("__both"))
    regions = (lesions.select("study_id", "region_label", "region_order").unique()
               .sort("study_id", "region_order")
               .group_by("study_id", maintain_order=True)
               .agg(pl.col("region_label").n_unique().cast(pl.Int64).alias("regions_affected"),
                    pl.col("region_label").str.join(", ").alias("regions_list")))
    counts = lesions.group_by("study_id").agg(
        pl.len().cast(pl.Int64).alias("__lesions"),
        pl.struct("bone", "side").n_unique().cast(pl.Int64).alias("bones_affected"))
    symmetric = per_bone.group_by("study_id").agg(pl.col("__both").any().alias("symmetric"))
    has = pl.col("study_id").is_not_null()
    n = pl.col("__lesions").fill_null(0)
    out = (
        studies.select("patient_id", "study_id")
        .join(regions, on="study_id", how="left").join(counts, on="study_id", how="left")
        .join(symmetric, on="study_id", how="left")
        .select(
            "patient_id",
            pl.when(has).then(pl.col("regions_affected").fill_null(0)).alias("regions_affected"),
            pl.when(has).then(pl.col("regions_list").fill_null("")).alias("regions_list"),
            pl.when(has).then(pl.col("bones_affected").fill_null(0)).alias("bones_affected"),
            pl.when(has).then(pl.col("symmetric").fill_null(False)).alias("symmetric"),
            pl.when(has).then(n == 1).alias("unifocal"),
            pl.when(has).then(n >= 2).alias("multifocal"),
        )
    )
    return out.rename({m: f"course.{m}{suffix}" for m in SITE_MEASURES})
