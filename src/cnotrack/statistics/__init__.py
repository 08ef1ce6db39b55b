"""Statistical methods on plain tables and numbers; nothing here imports the engine.

Each method names its source and is checked against R in ``tests/statistics`` (the R scripts
and their output are kept in the tests' docstrings):

- ``clopper_pearson``: exact binomial interval (R ``binom.test``);
- ``wilcoxon_signed_rank``, ``mcnemar_exact``: paired tests (R ``wilcox.test(paired = TRUE)``,
  ``binom.test(b, b + c)``);
- ``kaplan_meier``, ``kaplan_meier_by_group``: Kaplan-Meier with R ``survfit``'s log-scale
  intervals and median (R's midpoint rule, or the first time at or below 0.5);
- ``fisher_exact``, ``mann_whitney``, ``log_rank``, ``kruskal_wallis``, ``chi_squared``: tests
  of independent groups (R ``fisher.test``, ``wilcox.test``, ``survdiff``, ``kruskal.test``,
  ``chisq.test``), each a ``GroupTest``.

The analyses of an evaluated protocol (paired comparisons, time to event, Table 1) are in
:mod:`cnotrack.analysis`.
"""

from .group_test import GroupTest
from .intervals import CLOPPER_PEARSON, clopper_pearson
from .paired import PGA_LEVELS, PairedTest, mcnemar_exact, wilcoxon_signed_rank
from .survival import MEDIAN_RULES, SurvivalResult, kaplan_meier, kaplan_meier_by_group
from .two_group import chi_squared, fisher_exact, kruskal_wallis, log_rank, mann_whitney

__all__ = [
    "CLOPPER_PEARSON",
    "MEDIAN_RULES",
    "PGA_LEVELS",
    "GroupTest",
    "PairedTest",
    "SurvivalResult",
    "chi_squared",
    "clopper_pearson",
    "fisher_exact",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "kruskal_wallis",
    "log_rank",
    "mann_whitney",
    "mcnemar_exact",
    "wilcoxon_signed_rank",
]
