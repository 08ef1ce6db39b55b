"""Statistics for an evaluated protocol: intervals, paired tests, Kaplan-Meier and Table 1.

Each method names its source and is checked against R in ``tests/statistics`` (the R scripts
and their output are kept in the tests' docstrings):

- ``clopper_pearson``: exact binomial interval (R ``binom.test``);
- ``wilcoxon_signed_rank``, ``mcnemar_exact``: paired tests (R ``wilcox.test(paired = TRUE)``,
  ``binom.test(b, b + c)``);
- ``kaplan_meier``: Kaplan-Meier with R ``survfit``'s log-scale intervals and median;
- ``time_to_events``, ``table_one``, ``statistics_for``: the analyses of an evaluation.
"""

from .analyses import Statistics, paired_comparisons, proportion_intervals, statistics_for, with_intervals
from .events import time_to_events
from .intervals import CLOPPER_PEARSON, clopper_pearson
from .paired import PGA_LEVELS, PairedTest, mcnemar_exact, wilcoxon_signed_rank
from .survival import SurvivalResult, kaplan_meier
from .table1 import TableOne, TableOneRow, table_one

__all__ = [
    "CLOPPER_PEARSON",
    "PGA_LEVELS",
    "PairedTest",
    "Statistics",
    "SurvivalResult",
    "TableOne",
    "TableOneRow",
    "clopper_pearson",
    "kaplan_meier",
    "mcnemar_exact",
    "paired_comparisons",
    "proportion_intervals",
    "statistics_for",
    "table_one",
    "time_to_events",
    "wilcoxon_signed_rank",
    "with_intervals",
]
