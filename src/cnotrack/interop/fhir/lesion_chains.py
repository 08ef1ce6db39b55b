"""Which lesions rows are one lesion: the exchange format's matching, chained over each patient's studies.

The exchange format says when a lesion of one study is a lesion of another study of the same
patient ("Matching a lesion across two studies of one patient", rules 1-4: the same
``lesion_id``; else the same bone, side and segment; else the same bone and side where one row
has no segment and each is the only one left at that bone and side; never two different
``lesion_id``s). The engine implements those rules (``cnotrack.engine.lesion_fates``), and a
FHIR ``BodyStructure`` is one lesion in that sense, so its identity is built from the engine's
matching, never from a rule of its own:

- the studies of a patient that have lesions rows are put in date order (study id breaks a
  tie: ``k = 0, 1, ...``); a study without lesions rows says nothing about lesions and breaks
  no chain;
- study ``k`` is matched to study ``k - 1`` by ``lesion_fates``, for every patient and every
  ``k`` at once (one call: each consecutive pair of studies is a ``pair``);
- a lesion of study ``k`` matched to one of study ``k - 1`` is that lesion; one matched to none
  starts a lesion of its own (so a lesion absent from one study and seen again later is two
  lesions, as ``resolved`` then ``new`` in the engine);
- *all* rows take part, inactive ones too: for the fates the engine counts an inactive lesion as
  absent (it is ``resolved``), but an inactive row at the site of an earlier lesion is that
  lesion seen inactive, a finding about the same BodyStructure with activity ``inactive``; so is
  a ``not_assessed`` row (format 1.1): that lesion, not assessed by that study.

The identity of a chain is the key of its first row, ``(study_id, bone, side, segment)`` (the
lesions table's key): unique by construction and derived from the data only. A ``lesion_id``
is not used for it: one chain may carry two (``L1``, a row without one, then ``L2`` at the same
site) and one ``lesion_id`` may start two chains (absent from a study in between).
"""

from __future__ import annotations

import polars as pl

from ...engine import lesion_fates
from ...exchange import Dataset

__all__ = ["FIRST", "SITE", "lesion_chains"]

#: the columns that, with the study, make a lesions row's key
SITE = ("bone", "side", "segment")
#: the columns of ``lesion_chains`` naming the chain's first row (its identity)
FIRST = ("first_study_id", "first_bone", "first_side", "first_segment")

_KEY = ["patient_id", "k", *SITE]


def _rows(dataset: Dataset) -> pl.DataFrame:
    """Every lesions row with its patient, its study's date and ``k``, its study's rank by date."""
    studies = dataset["imaging"].select("patient_id", "study_id", "date")
    rows = dataset["lesions"].join(studies, on="study_id", how="inner")
    ranks = (rows.select("patient_id", "date", "study_id").unique()
             .sort("patient_id", "date", "study_id")
             .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("patient_id").alias("k")))
    rows = rows.join(ranks.select("study_id", "k"), on="study_id", how="inner")
    return rows.with_columns((pl.col("patient_id").rank("dense").cast(pl.Int64) - 1).alias("__patient"))


def _links(rows: pl.DataFrame) -> pl.DataFrame:
    """For each row of study ``k`` matched to a row of study ``k - 1``: both rows' sites."""
    span = int(rows["k"].max()) + 2
    columns = [c for c in ("bone", "side", "segment", "grade", "symptomatic", "lesion_id") if c in rows.columns]
    earlier = rows.select((pl.col("__patient") * span + pl.col("k") + 1).alias("pair"), *columns)
    later = rows.select((pl.col("__patient") * span + pl.col("k")).alias("pair"), *columns)
    fates = lesion_fates(earlier, later)   # no activity column: every row takes part
    matched = fates.filter(pl.col("matched_by").is_not_null())
    pairs = rows.select((pl.col("__patient") * span + pl.col("k")).alias("pair"), "patient_id", "k").unique()
    return matched.join(pairs, on="pair", how="inner").select(
        "patient_id", "k", *[pl.col(f"{c}_later").alias(c) for c in SITE],
        *[pl.col(f"{c}_earlier").alias(f"earlier_{c}") for c in SITE])


def lesion_chains(dataset: Dataset) -> pl.DataFrame:
    """One row per lesions row: ``patient_id``, ``study_id``, ``bone``, ``side``, ``segment``,
    ``date``, ``k`` (the study's rank among the patient's studies with lesions) and ``FIRST``, the
    key of the first row of the lesion it belongs to (see the module docstring)."""
    rows = _rows(dataset)
    own = [pl.col(c).alias(name) for c, name in zip(("study_id", *SITE), FIRST)]
    if rows.is_empty():
        return rows.select("patient_id", "study_id", "date", "k", *SITE, *own)
    links = _links(rows)
    done = rows.filter(pl.col("k") == 0).select(*_KEY, "study_id", "date", *own)
    chains = [done]
    for k in range(1, int(rows["k"].max()) + 1):
        step = rows.filter(pl.col("k") == k).select(*_KEY, "study_id", "date")
        step = step.join(links.filter(pl.col("k") == k), on=_KEY, how="left", nulls_equal=True)
        earlier = done.select("patient_id", *[pl.col(c).alias(f"earlier_{c}") for c in SITE], *FIRST)
        step = step.join(earlier, on=["patient_id", *[f"earlier_{c}" for c in SITE]], how="left", nulls_equal=True)
        # a row matched to none starts its own chain; a matched row's earlier site is never null in bone
        started = pl.col("earlier_bone").is_null()
        done = step.select(*_KEY, "study_id", "date", *[
            pl.when(started).then(pl.col(c)).otherwise(pl.col(name)).alias(name)
            for c, name in zip(("study_id", *SITE), FIRST)])
        chains.append(done)
    return pl.concat(chains).select("patient_id", "study_id", "date", "k", *SITE, *FIRST)
