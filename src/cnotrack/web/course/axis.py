"""The one time axis of a patient's course: dates to x positions, and its tick marks.

The axis runs from the earliest to the latest date of the patient's records (an ongoing course
ends at the latest date, never at "today", so that a page of the same data is the same), with
2 % room at each end; a course of a single day gets a month each side."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["TimeAxis", "time_axis"]


@dataclass(frozen=True)
class TimeAxis:
    """Dates from ``start`` to ``end`` drawn from ``left`` to ``right`` (user units)."""

    start: dt.date
    end: dt.date
    left: float
    right: float
    first: dt.date  # the earliest and latest date of the records (before the room at the ends)
    last: dt.date

    @property
    def days(self) -> int:
        return max(1, (self.end - self.start).days)

    def x(self, date: dt.date) -> float:
        """The x position of ``date``."""
        return self.left + (date - self.start).days / self.days * (self.right - self.left)

    def ticks(self) -> list[tuple[dt.date, str]]:
        """``(date, label)`` of the tick marks: years for a course over three years (every
        second or fifth year on a long one), else quarters (months under a year)."""
        years = self.days / 365.25
        if years > 3:
            step = 1 if years <= 10 else 2 if years <= 20 else 5
            out = [dt.date(y, 1, 1) for y in range(self.start.year + 1, self.end.year + 1) if y % step == 0]
            return [(d, str(d.year)) for d in out]
        months = 1 if years <= 1 else 3
        out = []
        y, m = self.start.year, self.start.month + 1
        while True:
            if m > 12:
                y, m = y + 1, m - 12
            d = dt.date(y, m, 1)
            if d > self.end:
                break
            if (m - 1) % months == 0:
                out.append((d, d.strftime("%b %Y") if m == 1 or not out else d.strftime("%b")))
            m += 1
        return out


def time_axis(dates: Iterable[dt.date | None], left: float, right: float) -> TimeAxis | None:
    """The axis over ``dates`` (``None`` left out); ``None`` when there is no date at all."""
    known = [d for d in dates if d is not None]
    if not known:
        return None
    first, last = min(known), max(known)
    span = (last - first).days
    pad = dt.timedelta(days=30) if span == 0 else dt.timedelta(days=max(1, round(span * 0.02)))
    return TimeAxis(first - pad, last + pad, left, right, first, last)
