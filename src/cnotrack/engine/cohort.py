"""The cohort of a protocol: each patient's index treatment, and who is eligible and why not.

All patients are handled at once with Polars; no step loops over patients.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..exchange.dataset import Dataset
from ..protocols.model import Protocol
from ..vocabulary import drugs

__all__ = ["Cohort", "build_cohort", "drug_table"]


@dataclass(frozen=True)
class Cohort:
    """``eligible``: one row per eligible patient with ``patient_id``, ``sex``, ``index_date``,
    ``index_stop_date``, ``last_assessment_date``; ``excluded``: ``patient_id``, ``reason``."""

    eligible: pl.DataFrame
    excluded: pl.DataFrame


def drug_table() -> pl.DataFrame:
    """Each drug of the vocabulary with its class."""
    return pl.DataFrame(
        [(d.name, d.drug_class) for d in drugs().drugs], schema=["drug", "drug_class"], orient="row"
    )


def build_cohort(dataset: Dataset, protocol: Protocol) -> Cohort:
    patients = dataset["patients"].select("patient_id", "sex")
    treatments = dataset["treatments"].join(drug_table(), on="drug", how="left")
    index_spec = protocol.index_treatment
    index_drug = index_spec.name
    is_index = (pl.col("drug") == index_spec.drug) if index_spec.drug else pl.col("drug_class").is_in(list(index_spec.classes))

    # the first course of the index drug: earliest start; on a tie the longest (ongoing first)
    index = (
        treatments.filter(is_index)
        .sort(["patient_id", "start_date", "stop_date"], nulls_last=False, descending=[False, False, True])
        .group_by("patient_id", maintain_order=True).first()
        .select("patient_id", pl.col("start_date").alias("index_date"),
                pl.col("stop_date").alias("index_stop_date"))
    )
    last_visit = dataset["assessments"].group_by("patient_id").agg(
        pl.col("date").max().alias("last_assessment_date"))
    table = (
        patients.join(index, on="patient_id", how="left")
        .join(last_visit, on="patient_id", how="left")
    )

    reasons: list[pl.Expr] = [
        pl.when(pl.col("index_date").is_null()).then(pl.lit(f"no {index_drug} course"))
    ]
    prior_flags = []
    for i, prior in enumerate(protocol.eligibility.prior_treatments):
        selected = pl.col("drug_class").is_in(list(prior.classes)) | pl.col("drug").is_in(list(prior.drugs))
        if prior.systemic_only:
            selected = selected & (pl.col("route").is_null() | (pl.col("route") != "topical"))
        had = (
            treatments.join(index, on="patient_id", how="inner")
            .filter(selected & (pl.col("start_date") < pl.col("index_date")))
            .select("patient_id").unique().with_columns(pl.lit(True).alias(f"__prior{i}"))
        )
        table = table.join(had, on="patient_id", how="left")
        prior_flags.append(f"__prior{i}")
        reasons.append(
            pl.when(pl.col("index_date").is_not_null() & pl.col(f"__prior{i}").is_null())
            .then(pl.lit(f"no course of {prior.label} before {index_drug}"))
        )
    days = protocol.eligibility.minimum_course_days
    if days is not None:
        stopped_short = pl.col("index_stop_date").is_not_null() & (
            (pl.col("index_stop_date") - pl.col("index_date")).dt.total_days() < days)
        ongoing_unfollowed = pl.col("index_stop_date").is_null() & (
            pl.col("last_assessment_date").is_null()
            | ((pl.col("last_assessment_date") - pl.col("index_date")).dt.total_days() < days))
        reasons.append(pl.when(pl.col("index_date").is_not_null() & stopped_short)
                       .then(pl.lit(f"{index_drug} course shorter than {days} days")))
        reasons.append(pl.when(pl.col("index_date").is_not_null() & ongoing_unfollowed)
                       .then(pl.lit(f"{index_drug} course ongoing without an assessment "
                                    f"at least {days} days after its start")))
    table = table.with_columns(
        pl.concat_list(reasons).list.drop_nulls().list.join("; ").alias("reason")
    )
    eligible = (
        table.filter(pl.col("reason") == "")
        .select("patient_id", "sex", "index_date", "index_stop_date", "last_assessment_date")
        .sort("patient_id")
    )
    excluded = table.filter(pl.col("reason") != "").select("patient_id", "reason").sort("patient_id")
    return Cohort(eligible, excluded)
