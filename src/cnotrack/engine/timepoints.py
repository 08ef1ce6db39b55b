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

__all__ = ["at_timepoint", "day_expr"]


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
    keys = ["patient_id", *(by or [])]
    joined = rows.join(cohort.select("patient_id", "index_date", "last_assessment_date"),
                       on="patient_id", how="inner").with_columns(day_expr(date_col).alias("day"))
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
    if window is not None:
        low, high = window
        joined = joined.filter((offset >= low) & (offset <= high))
    # the closest row first (then the earlier date, then the tiebreak), the first row per key
    # kept: sorting by numbers only, not by the patient's text id, is what makes this fast
    chosen = (
        joined.with_columns((offset - target_offset).abs().alias("__distance"))
        .sort(["__distance", date_col, *(tiebreak or [])])
        .unique(subset=keys, keep="first", maintain_order=True)
        .drop("__distance", "index_date", "last_assessment_date")
    )
    return chosen
