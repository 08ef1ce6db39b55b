"""The statistics of an evaluated protocol: intervals, paired tests, time to event and Table 1.

This layer sits above the engine (it takes an :class:`~cnotrack.engine.Evaluation` and its
dataset); the methods themselves are in :mod:`cnotrack.statistics`, which takes plain tables
and numbers and imports nothing of the engine.
"""

from .analyses import Statistics, paired_comparisons, proportion_intervals, statistics_for, with_intervals
from .events import time_to_events
from .table1 import TableOne, TableOneRow, table_one

__all__ = [
    "Statistics",
    "TableOne",
    "TableOneRow",
    "paired_comparisons",
    "proportion_intervals",
    "statistics_for",
    "table_one",
    "time_to_events",
    "with_intervals",
]
