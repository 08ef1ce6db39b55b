"""Two independent groups compared as R compares them: Fisher's exact, Mann-Whitney, log-rank.

Each function takes plain numbers (one value per patient, ``None`` when missing) and returns a
:class:`~cnotrack.statistics.group_test.GroupTest`; where no test can be made (an empty group,
every value equal, no event) ``p_value`` is ``None`` and a note says why.

- **Fisher's exact test** (Fisher RA. On the interpretation of chi-squared from contingency
  tables. J R Stat Soc 1922;85:87-94), as R's ``fisher.test`` on the 2x2 table
  ``matrix(c(yes_a, n_a - yes_a, yes_b, n_b - yes_b), 2)``: the two-sided p value sums the
  hypergeometric probabilities of the tables no more likely than the one observed, "no more"
  with R's relative tolerance 1e-7; the odds ratio (odds of yes in group a over group b) is
  the conditional maximum likelihood estimate and its 95% interval the exact conditional one,
  both found as R finds them (``uniroot`` at its default tolerance, ported in ``_rootfind``).
- **Mann-Whitney U / Wilcoxon rank-sum test** (Mann HB, Whitney DR. Ann Math Stat
  1947;18:50-60), as R's default ``wilcox.test(a, b)``: ``W`` is the rank sum of group a minus
  ``n_a (n_a + 1) / 2``; the p value is exact when both groups have fewer than 50 values and
  there are no ties, otherwise from the normal approximation with the tie-corrected variance and
  a continuity correction of 1/2.
- **Log-rank test** (Mantel N. Cancer Chemother Rep 1966;50:163-170), as R's
  ``survival::survdiff(Surv(days, event) ~ group)``: observed and expected events per group,
  the chi-squared statistic on (groups with expected events > 0) - 1 degrees of freedom.

The tests of more than two groups (Kruskal-Wallis, chi-squared) are in ``k_groups.py`` and
exported here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._rootfind import uniroot
from .group_test import FISHER, LOG_RANK, MANN_WHITNEY, GroupTest
from .k_groups import chi_squared, kruskal_wallis, present, value_summary

__all__ = ["GroupTest", "chi_squared", "fisher_exact", "kruskal_wallis", "log_rank", "mann_whitney"]

_TINY = float(np.finfo(float).eps)  # R's .Machine$double.eps


def fisher_exact(yes_a: int, n_a: int, yes_b: int, n_b: int, *, variable: str,
                 labels: tuple[str, str]) -> GroupTest:
    """R's ``fisher.test`` of yes in ``yes_a`` of ``n_a`` against ``yes_b`` of ``n_b``."""
    from scipy.stats import hypergeom  # SciPy is imported when a test is made

    for name, yes, n in (("yes_a", yes_a, n_a), ("yes_b", yes_b, n_b)):
        if not 0 <= yes <= n:
            raise ValueError(f"{variable}: {name} = {yes} must be between 0 and its group size {n}")
    per_group = tuple({"group": g, "n": n, "yes": y, "percent": (100 * y / n if n else None)}
                      for g, y, n in zip(labels, (yes_a, yes_b), (n_a, n_b)))
    common = dict(test=FISHER, variable=variable, groups=tuple(labels), sizes=(n_a, n_b), per_group=per_group)
    empty = [g for g, n in zip(labels, (n_a, n_b)) if n == 0]
    if empty:
        return GroupTest(p_value=None, method="Fisher's exact test (R fisher.test): not made",
                         notes=(f"no patient in {' and '.join(empty)}",), **common)
    m, n, k, x = n_a, n_b, yes_a + yes_b, yes_a  # R: column sums m, n; first row sum k; x[1, 1]
    lo, hi = max(0, k - n), min(k, m)
    if lo == hi:
        why = "every patient of both groups was yes" if k == m + n else "no patient of either group was yes"
        return GroupTest(p_value=None, method="Fisher's exact test (R fisher.test): not made",
                         notes=(f"{why}, so the table has one possible value (R gives p = 1)",), **common)
    support = np.arange(lo, hi + 1)
    logdc = hypergeom.logpmf(support, m + n, m, k)

    def dnhyper(ncp: float) -> np.ndarray:
        d = logdc + math.log(ncp) * support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mnhyper(ncp: float) -> float:
        if ncp == 0:
            return float(lo)
        if ncp == math.inf:
            return float(hi)
        return float((support * dnhyper(ncp)).sum())

    def pnhyper(q: int, ncp: float, upper: bool = False) -> float:
        if ncp == 1:
            return float(hypergeom.sf(x - 1, m + n, m, k) if upper else hypergeom.cdf(x, m + n, m, k))
        if ncp == 0:
            return float(q <= lo if upper else q >= lo)
        if ncp == math.inf:
            return float(q <= hi if upper else q >= hi)
        return float(dnhyper(ncp)[support >= q if upper else support <= q].sum())

    d = dnhyper(1.0)
    p = float(min(1.0, d[d <= d[x - lo] * (1 + 1e-7)].sum()))
    alpha = 0.025

    def upper_limit() -> float:
        if x == hi:
            return math.inf
        p1 = pnhyper(x, 1)
        if p1 < alpha:
            return uniroot(lambda t: pnhyper(x, t) - alpha, 0, 1)
        if p1 > alpha:
            return 1 / uniroot(lambda t: pnhyper(x, 1 / t) - alpha, _TINY, 1)
        return 1.0

    def lower_limit() -> float:
        if x == lo:
            return 0.0
        p1 = pnhyper(x, 1, upper=True)
        if p1 > alpha:
            return uniroot(lambda t: pnhyper(x, t, upper=True) - alpha, 0, 1)
        if p1 < alpha:
            return 1 / uniroot(lambda t: pnhyper(x, 1 / t, upper=True) - alpha, _TINY, 1)
        return 1.0

    def mle() -> float:
        if x == lo:
            return 0.0
        if x == hi:
            return math.inf
        mu = mnhyper(1)
        if mu > x:
            return uniroot(lambda t: mnhyper(t) - x, 0, 1)
        if mu < x:
            return 1 / uniroot(lambda t: mnhyper(1 / t) - x, _TINY, 1)
        return 1.0

    return GroupTest(p_value=p, statistic_name=None, estimate_name="odds ratio", estimate=mle(),
                     ci95=(lower_limit(), upper_limit()),
                     method=("Fisher's exact test (R fisher.test), two-sided: tables no more likely than the "
                             "one observed (relative tolerance 1e-7); conditional maximum likelihood odds ratio "
                             f"of yes in {labels[0]} over {labels[1]} with its exact 95% interval"),
                     **common)


def mann_whitney(a: Sequence[float | None], b: Sequence[float | None], *, variable: str,
                 labels: tuple[str, str]) -> GroupTest:
    """R's ``wilcox.test(a, b)``: W of group a, exact or normal p by R's rule (module docstring)."""
    from scipy.stats import mannwhitneyu, norm, rankdata  # SciPy is imported when a test is made

    x, y = present(a), present(b)
    missing = (len(a) - x.size, len(b) - y.size)
    per_group = tuple(value_summary(g, v) for g, v in zip(labels, (x, y)))
    common = dict(test=MANN_WHITNEY, variable=variable, groups=tuple(labels), sizes=(x.size, y.size),
                  missing=missing, per_group=per_group, statistic_name="W")
    notes = tuple(f"{n} patient(s) of {g} without a value left out" for g, n in zip(labels, missing) if n)
    empty = [g for g, v in zip(labels, (x, y)) if v.size == 0]
    if empty:
        return GroupTest(p_value=None, method="Mann-Whitney U test (R wilcox.test): not made",
                         notes=(f"no value in {' and '.join(empty)}",) + notes, **common)
    ranks = rankdata(np.concatenate([x, y]))  # average ranks for ties, as R's rank()
    w = float(ranks[: x.size].sum() - x.size * (x.size + 1) / 2)
    _, counts = np.unique(ranks, return_counts=True)
    ties = bool((counts > 1).any())
    if x.size < 50 and y.size < 50 and not ties:
        p = float(mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue)
        return GroupTest(p_value=min(1.0, p), statistic=w, method="Mann-Whitney U test (R wilcox.test), exact",
                         notes=notes, **common)
    n = x.size + y.size
    sigma = math.sqrt(x.size * y.size / 12 * ((n + 1) - float((counts ** 3 - counts).sum()) / (n * (n - 1))))
    reasons = " and ".join(r for r, on in (("ties", ties), ("50 or more values in a group",
                                                            max(x.size, y.size) >= 50)) if on)
    method = ("Mann-Whitney U test (R wilcox.test) with normal approximation, tie-corrected variance and "
              f"continuity correction ({reasons})")
    if sigma == 0:
        return GroupTest(p_value=None, statistic=w, method=method,
                         notes=("every value is the same, so the ranks cannot differ",) + notes, **common)
    z = w - x.size * y.size / 2
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / sigma
    p = float(2 * min(norm.cdf(z), norm.sf(z)))
    return GroupTest(p_value=min(1.0, p), statistic=w, method=method, notes=notes, **common)


def log_rank(days: Sequence[int], event: Sequence[bool], group: Sequence[str], *, variable: str) -> GroupTest:
    """R's ``survdiff(Surv(days, event) ~ group)``: chi-squared, df and p; groups sorted by name."""
    from scipy.stats import chi2  # SciPy is imported when a test is made

    if not len(days) == len(event) == len(group):
        raise ValueError(f"{variable}: {len(days)} times, {len(event)} event flags and {len(group)} groups; "
                         "give one of each per patient")
    time_in = np.array([np.nan if d is None else d for d in days], dtype=float)
    labels = np.array(list(group), dtype=object)
    keep = ~np.isnan(time_in) & (labels != None)  # noqa: E711 (elementwise comparison)
    time, labels = time_in[keep], labels[keep]
    dead = np.asarray(list(event), dtype=bool)[keep]
    if (time < 0).any():
        raise ValueError(f"{variable}: times must be 0 or more days")
    names = tuple(sorted(set(labels.tolist())))
    member = np.array([labels == g for g in names], dtype=bool).reshape(len(names), time.size)
    event_times = np.unique(time[dead])
    # at each event time, per group (k x T): the number at risk (time >= t) and the events at t
    at_risk = np.array([m.sum() - np.searchsorted(np.sort(time[m]), event_times, side="left") for m in member],
                       dtype=float).reshape(len(names), event_times.size)
    deaths = np.array([np.bincount(np.searchsorted(event_times, time[m & dead]), minlength=event_times.size)
                       for m in member], dtype=float).reshape(len(names), event_times.size)
    n_all, d_all = at_risk.sum(axis=0), deaths.sum(axis=0)
    observed = deaths.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_all > 0, at_risk / n_all, 0.0)
        expected = (d_all * share).sum(axis=1)
        weight = np.where(n_all > 1, d_all * (n_all - d_all) / (n_all - 1), 0.0)
    variance = np.einsum("t,it,ij->ij", weight, share, np.eye(len(names))) - np.einsum(
        "t,it,jt->ij", weight, share, share)
    per_group = tuple({"group": g, "n": int(m.sum()), "events": int((m & dead).sum()),
                       "observed": float(o), "expected": float(e)}
                      for g, m, o, e in zip(names, member, observed, expected))
    missing = int((~keep).sum())
    notes = (f"{missing} patient(s) without a time or a group left out",) if missing else ()
    common = dict(test=LOG_RANK, variable=variable, groups=names, sizes=tuple(int(m.sum()) for m in member),
                  per_group=per_group, statistic_name="chi-squared")
    method = "log-rank test (R survival::survdiff, rho = 0)"
    used = expected > 0
    if len(names) < 2:
        return GroupTest(p_value=None, method=method, notes=("fewer than two groups to compare",) + notes, **common)
    if d_all.sum() == 0:
        return GroupTest(p_value=None, method=method, notes=("no event in any group",) + notes, **common)
    df = int(used.sum()) - 1
    if df < 1:
        return GroupTest(p_value=None, method=method,
                         notes=("only one group has patients at risk at the event times",) + notes, **common)
    diff = (observed - expected)[used][1:]
    reduced = variance[np.ix_(used, used)][1:, 1:]
    if np.linalg.matrix_rank(reduced) < reduced.shape[0]:  # R's survdiff stops: "exactly singular"
        return GroupTest(p_value=None, method=method,
                         notes=("the variance of the log-rank statistic is zero (every patient at risk at each "
                                "event time had the event): no test, as R's survdiff gives none",) + notes,
                         **common)
    chisq = float(diff @ np.linalg.solve(reduced, diff))
    return GroupTest(p_value=float(chi2.sf(chisq, df)), statistic=chisq, df=df, method=method, notes=notes,
                     **common)
