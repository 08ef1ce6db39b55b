"""The per-patient table: every value the endpoints need, one row per eligible patient.

Columns are named ``<what>@<timepoint>``: ``pga@baseline``, ``pga_vas@month6``,
``ESR@baseline`` (with ``ESR@baseline.censor``, ``.limit``, ``.limit_source``, ``.date``),
``study@month6`` (with ``.date``), ``lesions@baseline`` (active lesions on that study), and per
lesion pair ``baseline>month6.<fate>`` counts (and ``.not_assessed``), ``baseline>month6.new_symptomatic`` (a new
lesion marked symptomatic; an empty ``symptomatic`` counts as not symptomatic) and
``baseline>month6.new_symptomatic_unknown`` (new lesions with an empty ``symptomatic``).

Language v2 adds, under a lesion filter with key ``k = lesion_filters.filter_key(filter)``:
``lesions[k]@<tp>`` and the pair columns ``<from>><to>[k].<fate>`` (the lesions of the two
studies are matched first, then filtered); studies of another modality as
``study[<modality>]@<tp>`` (each modality chooses its own study per timepoint); the PGA coded
0-4 as ``pga_ord@<tp>``; changes as ``change(<of>)@<from>><to>`` and ``pchange(<of>)@...``
(``changes.py``). Lesion fates themselves are returned row by row (unfiltered pairs of the
protocol's modality).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..exchange.dataset import Dataset
from ..protocols.model import Protocol
from .chaq import assessments_with_chaq
from .cohort import Cohort
from .labs import canonical_labs
from .changes import add_changes, add_pga_ordinal, lesions_column, pair_prefix, study_column
from .lesion_filters import filter_lesions, filter_study_lesions
from .lesion_tracking import FATES, NOT_ASSESSED, lesion_fates, lesion_present
from .needs import Needs
from .timepoints import at_timepoints

__all__ = ["PatientTable", "build_patient_table"]


@dataclass(frozen=True)
class PatientTable:
    patients: pl.DataFrame
    lesions: pl.DataFrame     # one row per lesion and pair: patient_id, pair_from, pair_to, fate, ...


def build_patient_table(dataset: Dataset, protocol: Protocol, cohort: Cohort, needs: Needs) -> PatientTable:
    base = cohort.eligible
    table = base.lazy()
    for chosen in _chosen_values(dataset, protocol, base, needs):
        table = table.join(chosen.lazy(), on="patient_id", how="left")
    table = table.collect()
    lesions = dataset["lesions"].filter(lesion_present())
    # what lesion_fates matches: the present lesions and the not assessed rows (1.1)
    tracked = dataset["lesions"].filter(lesion_present() | (pl.col("activity") == NOT_ASSESSED))
    table = table.join(_chosen_studies(dataset, protocol, base, needs, lesions), on="patient_id", how="left")
    for (tp, key), lesion_filter in sorted(needs.lesion_counts.items()):
        study = study_column(tp, lesion_filter.modality)
        counts = filter_study_lesions(lesions, lesion_filter).group_by("study_id").agg(pl.len().alias("__n"))
        table = table.join(counts.rename({"study_id": study}), on=study, how="left").with_columns(
            pl.when(pl.col(study).is_not_null()).then(pl.col("__n").fill_null(0).cast(pl.Int64))
            .alias(lesions_column(tp, key))).drop("__n")
    fate_rows = []
    # a pair's fates, matched once: ``_pair_fates`` reads only ``patient_id`` and the pair's study
    # columns of ``table``, which the fate columns added in between never change
    pair_fates: dict[tuple[str, str, str | None], pl.DataFrame] = {}

    def fates_of(first: str, second: str, modality: str | None) -> pl.DataFrame:
        if (first, second, modality) not in pair_fates:
            pair_fates[first, second, modality] = _pair_fates(table, tracked, first, second, modality)
        return pair_fates[first, second, modality]

    for first, second in sorted(needs.lesion_pairs):
        fates = fates_of(first, second, None)
        fate_rows.append(fates)
        table = _fate_columns(table, fates, first, second, "", None)
    for (first, second, key), lesion_filter in sorted(needs.filtered_pairs.items()):
        all_fates = fates_of(first, second, lesion_filter.modality)
        sites_only = filter_lesions(all_fates, lesion_filter.model_copy(update={"symptomatic": None}))
        table = _fate_columns(table, filter_lesions(all_fates, lesion_filter), first, second, key,
                              lesion_filter.modality, unknown_from=sites_only)
    if needs.pga_ordinal:
        table = add_pga_ordinal(table, needs.pga_ordinal)
    table = add_changes(table, needs.changes)
    if needs.courses:  # course measures (cnotrack.courses): course.<measure>[@<timepoint>]
        from ..courses import course_columns

        table = table.join(course_columns(dataset, protocol, base, needs.courses), on="patient_id", how="left")
    lesion_table = pl.concat(fate_rows, how="diagonal_relaxed") if fate_rows else pl.DataFrame()
    if needs.time_to_event:  # tte.<id>.days/.event/.excluded per time-to-event endpoint
        from .events import time_to_event_columns

        table = table.join(time_to_event_columns(dataset, protocol, base), on="patient_id", how="left")
    return PatientTable(table.sort("patient_id"), lesion_table)


def _chosen_values(dataset: Dataset, protocol: Protocol, base: pl.DataFrame,
                   needs: Needs) -> list[pl.DataFrame]:
    """The PGA, assessment and lab columns, each as ``patient_id`` and its columns at one
    timepoint, in the order the table has them: PGA by timepoint, the assessment fields, the
    lab tests by timepoint then test. The assessments and the labs are each gone through once
    for all their timepoints and variables (``at_timepoints``), and only the chosen lab values
    are converted to canonical units."""
    tps = {t.id: t for t in protocol.timepoints}
    parts: list[pl.DataFrame] = []
    wanted = [(f"pga@{tp}", tps[tp], pl.col("pga").is_not_null()) for tp in sorted(needs.pga)]
    wanted += [(f"{field}@{tp}", tps[tp], pl.col(field).is_not_null()) for field, tp in sorted(needs.assessments)]
    if wanted:
        chosen = at_timepoints(assessments_with_chaq(dataset), base, wanted)
        for tp in sorted(needs.pga):
            parts.append(chosen.filter(pl.col("timepoint") == f"pga@{tp}").select(
                "patient_id", pl.col("pga").alias(f"pga@{tp}"), pl.col("date").alias(f"pga@{tp}.date")))
        for field, tp in sorted(needs.assessments):
            parts.append(chosen.filter(pl.col("timepoint") == f"{field}@{tp}").select(
                "patient_id", pl.col(field).alias(f"{field}@{tp}")))
    if needs.labs:
        lab_tps = sorted({tp for _, tp in needs.labs})
        tests = {tp: sorted({test for test, t in needs.labs if t == tp}) for tp in lab_tps}
        chosen = canonical_labs(
            at_timepoints(dataset["labs"], base, [(tp, tps[tp], pl.col("test").is_in(tests[tp])) for tp in lab_tps],
                          by=["test"]), protocol, keep=("timepoint",))
        for tp in lab_tps:
            for test in tests[tp]:
                parts.append(chosen.filter((pl.col("timepoint") == tp) & (pl.col("test") == test)).select(
                    "patient_id",
                    pl.col("value").alias(f"{test}@{tp}"),
                    pl.col("censor").alias(f"{test}@{tp}.censor"),
                    pl.col("limit").alias(f"{test}@{tp}.limit"),
                    pl.col("limit_source").alias(f"{test}@{tp}.limit_source"),
                    pl.col("date").alias(f"{test}@{tp}.date"),
                ))
    return parts


def _chosen_studies(dataset: Dataset, protocol: Protocol, base: pl.DataFrame, needs: Needs,
                    lesions: pl.DataFrame) -> pl.DataFrame:
    """``patient_id`` and the study columns: per timepoint the study of the protocol's modality
    (``study@<tp>``, ``.date``, and its active lesions ``lesions@<tp>``), then those of other
    modalities (``study[<modality>]@<tp>``, ``.date``); the imaging table is gone through once
    for all of them."""
    tps = {t.id: t for t in protocol.timepoints}
    modality = pl.col("modality")
    wanted = [(study_column(tp, None), tps[tp], modality == protocol.imaging_modality) for tp in sorted(needs.studies)]
    wanted += [(study_column(tp, m), tps[tp], modality == m) for m, tp in sorted(needs.modality_studies)]
    out = base.select("patient_id").lazy()
    if not wanted:
        return out.collect()
    chosen = at_timepoints(dataset["imaging"].select("patient_id", "study_id", "date", "modality"), base, wanted,
                           tiebreak=["study_id"])
    counts = (lesions.lazy().select("study_id").join(chosen.lazy().select("study_id"), on="study_id", how="semi")
              .group_by("study_id").agg(pl.len().alias("__n")))
    for tp in sorted(needs.studies):
        study = study_column(tp, None)
        out = out.join(chosen.lazy().filter(pl.col("timepoint") == study).join(counts, on="study_id", how="left").select(
            "patient_id", pl.col("study_id").alias(study), pl.col("date").alias(f"{study}.date"),
            pl.col("__n").fill_null(0).cast(pl.Int64).alias(f"lesions@{tp}")), on="patient_id", how="left")
    for m, tp in sorted(needs.modality_studies):
        study = study_column(tp, m)
        out = out.join(chosen.lazy().filter(pl.col("timepoint") == study).select(
            "patient_id", pl.col("study_id").alias(study), pl.col("date").alias(f"{study}.date")),
            on="patient_id", how="left")
    return out.collect()


def _pair_fates(table: pl.DataFrame, lesions: pl.DataFrame, first: str, second: str,
                modality: str | None) -> pl.DataFrame:
    """The fate of every active lesion of each patient's two studies (all lesions, before any filter)."""
    a, b = study_column(first, modality), study_column(second, modality)
    pairs = table.select("patient_id", a, b).drop_nulls()
    earlier = pairs.select(pl.col("patient_id").alias("pair"), pl.col(a).alias("study_id")) \
        .join(lesions, on="study_id", how="inner")
    later = pairs.select(pl.col("patient_id").alias("pair"), pl.col(b).alias("study_id")) \
        .join(lesions, on="study_id", how="inner")
    return lesion_fates(earlier, later).rename({"pair": "patient_id"}).with_columns(
        pl.lit(first).alias("from"), pl.lit(second).alias("to"))


def _fate_columns(table: pl.DataFrame, fates: pl.DataFrame, first: str, second: str, key: str,
                  modality: str | None, unknown_from: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per patient with both studies: the count of each fate, ``.baseline`` (lesions of the earlier
    study), ``.new_symptomatic`` / ``.new_asymptomatic`` (a new lesion marked yes / not marked yes:
    an empty ``symptomatic`` counts as not symptomatic), ``.new_symptomatic_unknown`` (new
    lesions with an empty ``symptomatic``, counted in ``unknown_from``: the fates before the
    filter's ``symptomatic`` part) and ``.not_assessed`` (earlier lesions the later study did not
    assess: part of ``.baseline``, in no other fate); all null without both studies."""
    prefix = pair_prefix(first, second, key)
    new = pl.col("fate") == "new"
    symptomatic = pl.col("symptomatic_later")
    unknown = (unknown_from if unknown_from is not None else fates).group_by("patient_id").agg(
        (new & symptomatic.is_null()).sum().cast(pl.Int64).alias(f"{prefix}.new_symptomatic_unknown"))
    per_patient = fates.group_by("patient_id").agg(
        *[(pl.col("fate") == f).sum().cast(pl.Int64).alias(f"{prefix}.{f}") for f in (*FATES, NOT_ASSESSED)],
        (~new).sum().cast(pl.Int64).alias(f"__{prefix}.earlier"),
        (new & symptomatic.fill_null(False)).any().alias(f"{prefix}.new_symptomatic"),
        (new & ~symptomatic.fill_null(False)).any().alias(f"{prefix}.new_asymptomatic"),
    ).join(unknown, on="patient_id", how="full", coalesce=True)
    has_pair = pl.col(study_column(first, modality)).is_not_null() & pl.col(study_column(second, modality)).is_not_null()
    baseline = pl.col(f"lesions@{first}") if not key else pl.col(f"__{prefix}.earlier").fill_null(0)
    counts = [*(f"{prefix}.{f}" for f in (*FATES, NOT_ASSESSED)), f"{prefix}.new_symptomatic_unknown"]
    flags = [f"{prefix}.new_symptomatic", f"{prefix}.new_asymptomatic"]
    return table.join(per_patient, on="patient_id", how="left").with_columns(
        [pl.when(has_pair).then(pl.col(c).fill_null(0)).alias(c) for c in counts]
        + [pl.when(has_pair).then(pl.col(c).fill_null(False)).alias(c) for c in flags]
        + [pl.when(has_pair).then(baseline).alias(f"{prefix}.baseline")]
    ).drop(f"__{prefix}.earlier")
