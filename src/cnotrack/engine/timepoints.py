"""Choosing each patient's value at each timepoint, for all patients at once.

Days are counted from the index date (day 0). For a timepoint with a window, the value is
the one whose date is closest to the target day inside the window (inclusive); on a tie the
earlier date wins; two rows on one date (two imaging studies of one day) are told apart by
``study_id`` order, the smaller first (settled choice of issue 10). A timepoint anchored on the
last assessment targets the patient's latest assessment date (of any kind); without a window
it takes only values dated on that very date (window [0, 0], settled choice of issue 10: a last
visit without a PGA leaves the last follow-up PGA missing), and a protocol can give a window
such as [-90, 0] (days counted from that date). Rows
whose value is empty are ignored; no row = missing.
"""

from __future__ import annotations

import polars as pl

from ..protocols.model import Timepoint

__all__ = ["at_timepoint", "at_timepoints", "day_expr"]


def day_expr(date_col: str = "date") -> pl.Expr:
    """Days from the index date."""
    return (pl.col(date_col) - pl.col("index_date")).dt.total_days()


def at_timepoint(rows: pl.DataFrame, cohort: pl.DataFrame, timepoint: Timepoint,
                 *, by: list[str] | None = None, date_col: str = "date",
                 tiebreak: list[str] | None = None) -> pl.DataFrame:
    """One row per patient (and per ``by`` group): the row chosen for ``timepoint``.

    ``rows`` must have ``patient_id`` and ``date_col`` and only rows with a value; ``cohort``
    has ``patient_id``, ``index_date`` and ``last_assessment_date``. The result keeps the
    columns of ``rows`` and adds ``day`` (from the index date). Rows on the same date (two
    imaging studies of one day) are told apart by ``tiebreak`` columns, so that the choice never
    depends on row order.
    """
    chosen = at_timepoints(rows, cohort, [("", timepoint, None)], by=by, date_col=date_col, tiebreak=tiebreak)
    return chosen.drop("timepoint")


def at_timepoints(rows: pl.DataFrame, cohort: pl.DataFrame, wanted: list[tuple[str, Timepoint, pl.Expr | None]],
                  *, by: list[str] | None = None, date_col: str = "date",
                  tiebreak: list[str] | None = None) -> pl.DataFrame:
    """``at_timepoint`` for several timepoints in one pass over ``rows`` (the assessments and
    labs are the largest tables): each ``(label, timepoint, has_value)`` of ``wanted`` chooses
    among the rows where ``has_value`` is true (all rows for ``None``). One row per patient (and
    ``by`` group) and label, the label in the column ``timepoint``; the columns of ``rows``, then
    ``day`` and ``timepoint``.

    Only the keys and dates are looked up in the cohort and compared, and only the rows inside
    some window go on; the chosen rows' other columns are then taken by position, so that the
    table's many other cells are never copied."""
    extra = [c for c in dict.fromkeys([*(by or []), *(tiebreak or [])]) if c not in ("patient_id", date_col)]
    # the patient as the cohort's row number (``__patient``): an Enum of the cohort's ids looks
    # each row's patient up without joining the table, and the rows are then told apart by numbers
    patient = pl.col("patient_id").cast(pl.Enum(cohort["patient_id"]), strict=False).to_physical()
    windows = [_window(tp) for _, tp, _ in wanted]
    candidates = (
        rows.lazy().select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"), patient.alias("__patient"), date_col, *extra,
            *[(has_value if has_value is not None else pl.lit(True)).alias(f"__in{i}")
              for i, (_, _, has_value) in enumerate(wanted)])
        .filter(pl.col("__patient").is_not_null())
        .with_columns(pl.lit(cohort[c]).gather(pl.col("__patient")).alias(c)
                      for c in ("index_date", "last_assessment_date"))
        .with_columns(day_expr(date_col).alias("day"))
        # only the rows inside some timepoint's window go on
        .with_columns((pl.col(f"__in{i}") & inside).alias(f"__in{i}") for i, (inside, _) in enumerate(windows))
        .filter(pl.any_horizontal(f"__in{i}" for i in range(len(wanted))))
        .collect()
    )
    chosen = pl.concat([
        candidates.lazy().filter(pl.col(f"__in{i}")).select(
            "__row", "__patient", date_col, *extra, "day", distance.alias("__distance"), pl.lit(label).alias("timepoint"))
        for i, ((label, _, _), (_, distance)) in enumerate(zip(wanted, windows))])
    keys = ["__patient", *(by or []), "timepoint"]
    chosen = (chosen.sort(["__distance", date_col, *(tiebreak or [])])
              .unique(subset=keys, keep="first", maintain_order=True).select("__row", "day", "timepoint").collect())
    return rows.select(pl.all().gather(chosen["__row"])).with_columns(chosen["day"], chosen["timepoint"])


def _window(timepoint: Timepoint) -> tuple[pl.Expr, pl.Expr]:
    """Whether a row (with ``day``, ``index_date``, ``last_assessment_date``) lies inside the
    timepoint's window, and its distance from the timepoint's target in days."""
    if timepoint.anchor == "last_assessment":
        target = (pl.col("last_assessment_date") - pl.col("index_date")).dt.total_days()
        offset = pl.col("day") - target
        target_offset = 0
    else:
        offset = pl.col("day")
        target_offset = timepoint.target_day or 0
    window = timepoint.window
    if window is None and timepoint.anchor == "last_assessment":
        window = (0, 0)
    inside = pl.lit(True) if window is None else (offset >= window[0]) & (offset <= window[1])
    return inside, (offset - target_offset).abs()
