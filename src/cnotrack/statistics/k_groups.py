"""Two or more independent groups: Kruskal-Wallis and the chi-squared test, as R computes them.

- **Kruskal-Wallis test** (Kruskal WH, Wallis WA. J Am Stat Assoc 1952;47:583-621), as R's
  ``kruskal.test(list(...))``: ``H`` from the ranks of all values (average ranks for ties),
  divided by the tie correction ``1 - sum(t^3 - t) / (n^3 - n)``, on (groups - 1) degrees of
  freedom.
- **Chi-squared test** of a yes/no variable across groups (Pearson K. Philos Mag 1900;50:
  157-175), as R's ``chisq.test`` on the 2 x k table of yes and no per group: for more than two
  groups without continuity correction (R applies none beyond 2 x 2); for two groups R's
  default Yates correction (``correct = TRUE``), named in the method. Expected counts below 5
  (R's "Chi-squared approximation may be incorrect") are noted.

A test that cannot be made (an empty group, fewer than two groups, every value the same,
everyone yes or everyone no) has ``p_value = None`` and a note saying why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .group_test import CHI_SQUARED, KRUSKAL_WALLIS, GroupTest

__all__ = ["chi_squared", "kruskal_wallis", "present", "value_summary"]


def present(values: Sequence[float | None]) -> np.ndarray:
    """The values that are there (``None`` and NaN dropped), as floats."""
    out = np.array([np.nan if v is None else v for v in values], dtype=float)
    return out[~np.isnan(out)]


def value_summary(group: str, values: np.ndarray) -> dict[str, Any]:
    """``group``, ``n``, ``median``, ``q1``, ``q3`` (R's default quantile type 7)."""
    if values.size == 0:
        return {"group": group, "n": 0, "median": None, "q1": None, "q3": None}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"group": group, "n": int(values.size), "median": float(median), "q1": float(q1), "q3": float(q3)}


def kruskal_wallis(values_by_group: Mapping[str, Sequence[float | None]], *, variable: str) -> GroupTest:
    """R's ``kruskal.test(list(...))`` over the groups, in the order given."""
    from scipy.stats import chi2, rankdata  # SciPy is imported when a test is made

    names = tuple(values_by_group)
    groups = [present(values_by_group[g]) for g in names]
    missing = tuple(len(values_by_group[g]) - v.size for g, v in zip(names, groups))
    common = dict(test=KRUSKAL_WALLIS, variable=variable, groups=names, sizes=tuple(v.size for v in groups),
                  missing=missing, per_group=tuple(value_summary(g, v) for g, v in zip(names, groups)),
                  statistic_name="Kruskal-Wallis chi-squared")
    method = ("Kruskal-Wallis rank sum test (R kruskal.test), tie-corrected, chi-squared on groups - 1 "
              "degrees of freedom")
    notes = tuple(f"{n} patient(s) of {g} without a value left out" for g, n in zip(names, missing) if n)
    empty = [g for g, v in zip(names, groups) if v.size == 0]
    if len(names) < 2 or empty:
        why = "fewer than two groups to compare" if len(names) < 2 else f"no value in {' and '.join(empty)}"
        return GroupTest(p_value=None, method=method, notes=(why,) + notes, **common)
    everything = np.concatenate(groups)
    n = everything.size
    ranks = rankdata(everything)
    _, ties = np.unique(everything, return_counts=True)
    correction = 1 - float((ties ** 3 - ties).sum()) / (n ** 3 - n) if n > 1 else 0.0
    if correction == 0:
        return GroupTest(p_value=None, method=method,
                         notes=("every value is the same, so the ranks cannot differ",) + notes, **common)
    bounds = np.cumsum([0] + [v.size for v in groups])
    sums = np.array([ranks[bounds[i]:bounds[i + 1]].sum() for i in range(len(groups))])
    sizes = np.array([v.size for v in groups], dtype=float)
    h = float((12 * (sums ** 2 / sizes).sum() / (n * (n + 1)) - 3 * (n + 1)) / correction)
    df = len(groups) - 1
    return GroupTest(p_value=float(chi2.sf(h, df)), statistic=h, df=df, method=method, notes=notes, **common)


def chi_squared(yes_by_group: Mapping[str, tuple[int, int]], *, variable: str) -> GroupTest:
    """R's ``chisq.test(rbind(yes, n - yes))`` with ``yes_by_group[g] = (yes, n)``."""
    from scipy.stats import chi2  # SciPy is imported when a test is made

    names = tuple(yes_by_group)
    yes = np.array([yes_by_group[g][0] for g in names], dtype=float)
    size = np.array([yes_by_group[g][1] for g in names], dtype=float)
    for g, y, n in zip(names, yes, size):
        if not 0 <= y <= n:
            raise ValueError(f"{variable}: {g} has {int(y)} yes of {int(n)}; yes must be between 0 and n")
    per_group = tuple({"group": g, "n": int(n), "yes": int(y), "percent": (100 * y / n if n else None)}
                      for g, y, n in zip(names, yes, size))
    yates = len(names) == 2
    method = ("Pearson's chi-squared test (R chisq.test) on the 2 x k table of yes and no, "
              + ("with Yates' continuity correction (R's default for a 2 x 2 table)" if yates
                 else "without continuity correction"))
    common = dict(test=CHI_SQUARED, variable=variable, groups=names, sizes=tuple(int(n) for n in size),
                  per_group=per_group, statistic_name="X-squared")
    empty = [g for g, n in zip(names, size) if n == 0]
    if len(names) < 2 or empty:
        why = "fewer than two groups to compare" if len(names) < 2 else f"no patient in {' and '.join(empty)}"
        return GroupTest(p_value=None, method=method, notes=(why,), **common)
    observed = np.vstack([yes, size - yes])
    rows = observed.sum(axis=1)
    if (rows == 0).any():
        why = "no patient was yes" if rows[0] == 0 else "every patient was yes"
        return GroupTest(p_value=None, method=method, notes=(f"{why}, so the groups cannot differ",), **common)
    expected = np.outer(rows, size) / size.sum()
    gap = np.abs(observed - expected)
    if yates:
        gap = gap - min(0.5, float(gap.min()))
    statistic = float((gap ** 2 / expected).sum())
    df = len(names) - 1
    low = int((expected < 5).sum())
    notes = (f"{low} of {expected.size} expected counts are below 5 (smallest "
             f"{expected.min():.2f}): the chi-squared approximation may be poor",) if low else ()
    return GroupTest(p_value=float(chi2.sf(statistic, df)), statistic=statistic, df=df, method=method,
                     notes=notes, **common)
