"""Statistical methods on plain tables and numbers; nothing here imports the engine.

Each method names its source and is checked against R in ``tests/statistics`` (the R scripts
and their output are kept in the tests' docstrings):

- ``clopper_pearson``: exact binomial interval (R ``binom.test``);
- ``wilcoxon_signed_rank``, ``mcnemar_exact``: paired tests (R ``wilcox.test(paired = TRUE)``,
  ``binom.test(b, b + c)``);
- ``kaplan_meier``: Kaplan-Meier with R ``survfit``'s log-scale intervals and median.

The analyses of an evaluated protocol (paired comparisons, time to event, Table 1) are in
:mod:`cnotrack.analysis`.
"""

from .intervals import CLOPPER_PEARSON, clopper_pearson
from .paired import PGA_LEVELS, PairedTest, mcnemar_exact, wilcoxon_signed_rank
from .survival import SurvivalResult, kaplan_meier

__all__ = [
    "CLOPPER_PEARSON",
    "PGA_LEVELS",
    "PairedTest",
    "SurvivalResult",
    "clopper_pearson",
    "kaplan_meier",
    "mcnemar_exact",
    "wilcoxon_signed_rank",
]
