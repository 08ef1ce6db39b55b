"""The per-patient table: every value the endpoints need, one row per eligible patient.

Columns are named ``<what>@<timepoint>``: ``pga@baseline``, ``pga_vas@month6``,
``ESR@baseline`` (with ``ESR@baseline.censor``, ``.limit``, ``.limit_source``, ``.date``),
``study@month6`` (with ``.date``), ``lesions@baseline`` (active lesions on that study), and per
lesion pair ``baseline>month6.<fate>`` counts and ``baseline>month6.new_symptomatic`` (true,
false, or null when unknown). Lesion fates themselves are returned row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..exchange.dataset import Dataset
from ..protocols.model import Protocol
from .chaq import assessments_with_chaq
from .cohort import Cohort
from .labs import canonical_labs
from .lesion_tracking import FATES, lesion_fates
from .needs import Needs
from .timepoints import at_timepoint

__all__ = ["PatientTable", "build_patient_table"]


@dataclass(frozen=True)
class PatientTable:
    patients: pl.DataFrame
    lesions: pl.DataFrame     # one row per lesion and pair: patient_id, pair_from, pair_to, fate, ...


def build_patient_table(dataset: Dataset, protocol: Protocol, cohort: Cohort, needs: Needs) -> PatientTable:
    base = cohort.eligible
    table = base
    tps = {t.id: t for t in protocol.timepoints}

    assessments = assessments_with_chaq(dataset)
    if needs.pga:
        rows = assessments.filter(pl.col("pga").is_not_null()).select("patient_id", "date", "pga")
        for tp in sorted(needs.pga):
            chosen = at_timepoint(rows, base, tps[tp]).select(
                "patient_id", pl.col("pga").alias(f"pga@{tp}"), pl.col("date").alias(f"pga@{tp}.date"))
            table = table.join(chosen, on="patient_id", how="left")
    for field, tp in sorted(needs.assessments):
        rows = assessments.filter(pl.col(field).is_not_null()).select("patient_id", "date", field)
        chosen = at_timepoint(rows, base, tps[tp]).select(
            "patient_id", pl.col(field).alias(f"{field}@{tp}"))
        table = table.join(chosen, on="patient_id", how="left")
    if needs.labs:
        wanted_tests = sorted({test for test, _ in needs.labs})
        labs = canonical_labs(
            dataset["labs"].filter(pl.col("test").is_in(wanted_tests))
            .join(base.select("patient_id"), on="patient_id", how="semi"), protocol)
        for tp in sorted({tp for _, tp in needs.labs}):
            tests = sorted({test for test, t in needs.labs if t == tp})
            chosen = at_timepoint(labs.filter(pl.col("test").is_in(tests)), base, tps[tp], by=["test"])
            for test in tests:
                one = chosen.filter(pl.col("test") == test).select(
                    "patient_id",
                    pl.col("value").alias(f"{test}@{tp}"),
                    pl.col("censor").alias(f"{test}@{tp}.censor"),
                    pl.col("limit").alias(f"{test}@{tp}.limit"),
                    pl.col("limit_source").alias(f"{test}@{tp}.limit_source"),
                    pl.col("date").alias(f"{test}@{tp}.date"),
                )
                table = table.join(one, on="patient_id", how="left")
    lesions = dataset["lesions"].filter(
        pl.col("activity").is_null() | (pl.col("activity") != "inactive"))
    if needs.studies:
        studies = dataset["imaging"].filter(pl.col("modality") == protocol.imaging_modality).select(
            "patient_id", "study_id", "date")
        counts = lesions.group_by("study_id").agg(pl.len().alias("__n"))
        for tp in sorted(needs.studies):
            chosen = at_timepoint(studies, base, tps[tp], tiebreak=["study_id"]).join(counts, on="study_id", how="left").select(
                "patient_id", pl.col("study_id").alias(f"study@{tp}"), pl.col("date").alias(f"study@{tp}.date"),
                pl.col("__n").fill_null(0).cast(pl.Int64).alias(f"lesions@{tp}"))
            table = table.join(chosen, on="patient_id", how="left")
    fate_rows = []
    for first, second in sorted(needs.lesion_pairs):
        pairs = table.select("patient_id", f"study@{first}", f"study@{second}").drop_nulls()
        earlier = pairs.select(pl.col("patient_id").alias("pair"), pl.col(f"study@{first}").alias("study_id")) \
            .join(lesions, on="study_id", how="inner")
        later = pairs.select(pl.col("patient_id").alias("pair"), pl.col(f"study@{second}").alias("study_id")) \
            .join(lesions, on="study_id", how="inner")
        fates = lesion_fates(earlier, later).rename({"pair": "patient_id"}).with_columns(
            pl.lit(first).alias("from"), pl.lit(second).alias("to"))
        fate_rows.append(fates)
        prefix = f"{first}>{second}"
        new_symptom = pl.col("symptomatic_later")
        per_patient = fates.group_by("patient_id").agg(
            *[(pl.col("fate") == f).sum().cast(pl.Int64).alias(f"{prefix}.{f}") for f in FATES],
            *[((pl.col("fate") == "new") & (new_symptom == value)).any().alias(f"__{prefix}.{name}")
              for name, value in (("sym_true", True), ("sym_false", False))],
            ((pl.col("fate") == "new") & new_symptom.is_null()).any().alias(f"__{prefix}.sym_null"),
        )
        has_pair = pl.col(f"study@{first}").is_not_null() & pl.col(f"study@{second}").is_not_null()
        table = table.join(per_patient, on="patient_id", how="left").with_columns(
            [pl.when(has_pair).then(pl.col(f"{prefix}.{f}").fill_null(0)).alias(f"{prefix}.{f}") for f in FATES]
            + [pl.when(has_pair).then(pl.col(f"lesions@{first}")).alias(f"{prefix}.baseline")]
        ).with_columns(
            *[_symptomatic(prefix, has_pair, want) for want in (True, False)],
        ).drop([c for c in (f"__{prefix}.sym_true", f"__{prefix}.sym_false", f"__{prefix}.sym_null")])
    lesion_table = pl.concat(fate_rows, how="diagonal_relaxed") if fate_rows else pl.DataFrame()
    return PatientTable(table.sort("patient_id"), lesion_table)


def _symptomatic(prefix: str, has_pair: pl.Expr, want: bool) -> pl.Expr:
    """Has a new lesion whose ``symptomatic`` is ``want``: true, false, or null when unknown."""
    hit = pl.col(f"__{prefix}.sym_true" if want else f"__{prefix}.sym_false").fill_null(False)
    unknown = pl.col(f"__{prefix}.sym_null").fill_null(False)
    name = f"{prefix}.new_symptomatic" if want else f"{prefix}.new_asymptomatic"
    return (pl.when(~has_pair).then(None).when(hit).then(True).when(unknown).then(None)
            .otherwise(False).alias(name))
