"""Lesion tracking: match the lesions of two imaging studies and give each its fate.

The rules are the exchange format's (docs/exchange-format.md, "Matching a lesion across two
studies"). Only active lesions take part, and (format 1.1) a later study's ``not_assessed`` row:
it says that the earlier lesion it matches was not looked at. Among lesions not yet matched:

1. rows that share a ``lesion_id`` are the same lesion;
2. otherwise the same bone, side and segment are the same lesion (an empty segment or side
   equals an empty one), unless the two carry different ``lesion_id``s;
3. otherwise, where at least one of the two gives no segment, the same bone and side are the
   same lesion when exactly one unmatched lesion of each study has that bone and side
   (again never two different ``lesion_id``s);
4. anything else is a different lesion.

A lesion of the earlier study is ``resolved`` (no match), ``improved`` (grade lower),
``worsened`` (grade higher) or ``stable`` (otherwise, or grades not given); a lesion of the
later study matched to none is ``new``. An earlier lesion matched to a ``not_assessed`` row is
``not_assessed`` (never resolved, stable, improved or worsened: its state is not known), and a
``not_assessed`` row matched to no earlier lesion is left out (it is never new, and an earlier
study's ``not_assessed`` row is no lesion present then). Many study pairs are matched at once: every frame
carries a ``pair`` column naming the pair (for instance the patient).
"""

from __future__ import annotations

import polars as pl

__all__ = ["FATES", "NOT_ASSESSED", "NOT_PRESENT", "lesion_fates", "lesion_present"]

FATES = ("resolved", "stable", "improved", "worsened", "new")
#: the fate of an earlier lesion that the later study did not assess (and that activity value)
NOT_ASSESSED = "not_assessed"
#: the activities of a lesion row that is not a lesion present at its study (``lesion_present``)
NOT_PRESENT = ("inactive", NOT_ASSESSED)
_COLS = ["bone", "side", "segment", "grade", "symptomatic", "lesion_id"]


def lesion_present(activity: str = "activity") -> pl.Expr:
    """Whether a lesion row is a lesion present at its study: ``activity`` empty or ``active``
    (``inactive`` counts as not present, ``not_assessed`` says nothing about presence)."""
    return pl.col(activity).is_null() | ~pl.col(activity).is_in(list(NOT_PRESENT))


def _prepare(lesions: pl.DataFrame, tag: str) -> pl.DataFrame:
    if "pair" not in lesions.columns:
        lesions = lesions.with_columns(pl.lit("pair").alias("pair"))
    # the earlier study: lesions present; the later one: those and the not assessed ones
    kept = lesion_present() if tag == "e" else lesion_present() | (pl.col("activity") == NOT_ASSESSED)
    return lesions.filter(kept).with_row_index(f"__{tag}").select(
        "pair", f"__{tag}", *[pl.col(c).alias(f"{c}_{tag}") for c in _COLS],
        *([(pl.col("activity") == NOT_ASSESSED).fill_null(False).alias("__na_l")] if tag == "l" else []),
    )


def _no_id_conflict() -> pl.Expr:
    return ~(pl.col("lesion_id_e").is_not_null() & pl.col("lesion_id_l").is_not_null()
             & (pl.col("lesion_id_e") != pl.col("lesion_id_l")))


def _unmatched(frame: pl.DataFrame, matches: list[pl.DataFrame], tag: str) -> pl.DataFrame:
    for m in matches:
        frame = frame.join(m.select(f"__{tag}"), on=f"__{tag}", how="anti")
    return frame


def lesion_fates(earlier: pl.DataFrame, later: pl.DataFrame) -> pl.DataFrame:
    """Match ``earlier`` and ``later`` lesions and return one row per lesion with its fate.

    Both frames have the lesion columns of the exchange format (``bone``, ``side``, ``segment``,
    ``activity``, ``grade``, ``symptomatic``, ``lesion_id``; ``activity``/``grade``/
    ``symptomatic``/``lesion_id`` may be absent) and optionally ``pair``. The result has
    ``pair``, ``fate``, ``matched_by`` (``lesion_id``, ``site``, ``bone_and_side`` or null),
    and the columns of both sides suffixed ``_earlier`` and ``_later``. ``fate`` is one of
    :data:`FATES` or :data:`NOT_ASSESSED`.
    """
    e = _prepare(_complete(earlier), "e")
    l = _prepare(_complete(later), "l")

    # rule 1: the same lesion_id
    by_id = e.filter(pl.col("lesion_id_e").is_not_null()).join(
        l.filter(pl.col("lesion_id_l").is_not_null()),
        left_on=["pair", "lesion_id_e"], right_on=["pair", "lesion_id_l"], how="inner", coalesce=False,
    ).with_columns(pl.lit("lesion_id").alias("matched_by"))

    # rule 2: the same bone, side and segment
    e2, l2 = _unmatched(e, [by_id], "e"), _unmatched(l, [by_id], "l")
    by_site = e2.join(
        l2, left_on=["pair", "bone_e", "side_e", "segment_e"], right_on=["pair", "bone_l", "side_l", "segment_l"],
        how="inner", nulls_equal=True, coalesce=False,
    ).filter(_no_id_conflict()).with_columns(pl.lit("site").alias("matched_by"))

    # rule 3: the same bone and side, one of them without a segment, each unique among the unmatched
    e3, l3 = _unmatched(e2, [by_site], "e"), _unmatched(l2, [by_site], "l")
    e3 = e3.with_columns(pl.len().over("pair", "bone_e", "side_e").alias("__n_e"))
    l3 = l3.with_columns(pl.len().over("pair", "bone_l", "side_l").alias("__n_l"))
    by_bone = e3.join(
        l3, left_on=["pair", "bone_e", "side_e"], right_on=["pair", "bone_l", "side_l"],
        how="inner", nulls_equal=True, coalesce=False,
    ).filter(
        (pl.col("__n_e") == 1) & (pl.col("__n_l") == 1)
        & (pl.col("segment_e").is_null() | pl.col("segment_l").is_null())
        & _no_id_conflict()
    ).drop("__n_e", "__n_l").with_columns(pl.lit("bone_and_side").alias("matched_by"))

    matched = pl.concat([m.drop("pair_right", strict=False) for m in (by_id, by_site, by_bone)],
                        how="diagonal_relaxed")
    matched = matched.with_columns(
        pl.when(pl.col("__na_l")).then(pl.lit(NOT_ASSESSED))
        .when(pl.col("grade_e").is_not_null() & pl.col("grade_l").is_not_null()
                & (pl.col("grade_l") < pl.col("grade_e"))).then(pl.lit("improved"))
        .when(pl.col("grade_e").is_not_null() & pl.col("grade_l").is_not_null()
              & (pl.col("grade_l") > pl.col("grade_e"))).then(pl.lit("worsened"))
        .otherwise(pl.lit("stable")).alias("fate")
    )
    resolved = _unmatched(e, [matched], "e").with_columns(
        pl.lit("resolved").alias("fate"), pl.lit(None, pl.String).alias("matched_by"))
    new = _unmatched(l.filter(~pl.col("__na_l")), [matched], "l").with_columns(
        pl.lit("new").alias("fate"), pl.lit(None, pl.String).alias("matched_by"))
    result = pl.concat([matched, resolved, new], how="diagonal_relaxed")
    rename = {f"{c}_e": f"{c}_earlier" for c in _COLS} | {f"{c}_l": f"{c}_later" for c in _COLS}
    return (
        result.rename(rename)
        .sort("pair", "__e", "__l", nulls_last=True)
        .select("pair", "fate", "matched_by", *rename.values())
    )


def _complete(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the optional lesion columns a frame lacks, as empty columns."""
    types = {"activity": pl.String, "bone": pl.String, "side": pl.String, "segment": pl.String,
             "grade": pl.Int64, "symptomatic": pl.Boolean, "lesion_id": pl.String}
    frame = frame.with_columns([pl.col(c).cast(t) for c, t in types.items()
                                if c in frame.columns and frame.schema[c] == pl.Null])
    missing = {c: t for c, t in types.items() if c != "bone"}
    return frame.with_columns([pl.lit(None, dtype).alias(c) for c, dtype in missing.items() if c not in frame.columns])
