"""The null distributions of the paired tests, on NumPy, the standard library and ``scipy.special``.

Evaluating a protocol makes Wilcoxon signed-rank and exact McNemar tests on every run. SciPy's
``scipy.stats`` costs most of a second to import, several times what the tests themselves
cost, so the p values are computed here, by the algorithms SciPy
1.17 uses (``tests/statistics/test_distributions.py`` checks them against ``scipy.stats`` on
random inputs: the exact and the normal-approximation signed-rank p values to the last bit, the
binomial one as said below; the R references of ``test_paired.py`` still hold):

- :func:`average_ranks`: ``scipy.stats.rankdata(x)`` (R's ``rank()``: ties get the mean of
  their ranks), with the size of each group of ties;
- :func:`signed_rank_p_value`: the two-sided p value of ``scipy.stats.wilcoxon(d,
  zero_method="wilcox", correction=True, method=...)``: exact, from the distribution of the
  positive rank sum over the 2^n sign patterns, or from the normal approximation with the
  tie-corrected variance and the continuity correction of 1/2;
- :func:`binomial_half_p_value`: ``scipy.stats.binomtest(k, n, 0.5).pvalue``, R's
  ``binom.test(k, n)``: the probabilities of the outcomes no more likely than the one observed
  (relative tolerance 1e-7). With probability 1/2 every binomial probability is an integer
  over 2^n, so sums are made exactly with Python integers and rounded once: the correctly
  rounded exact p value. Up to 399 discordant pairs it is SciPy's to the last bit; from 400 on,
  SciPy's Boost sums differ from it by up to about 1e-14 relative (in their last digits);
- :func:`normal_cdf`: ``scipy.special.ndtr`` itself, so the normal approximation of the
  signed-rank test is SciPy's to the last bit.

The Clopper-Pearson interval keeps SciPy's Boost beta quantile (``intervals.py``): the
endpoint snapshots hold its values to the last bit, which a quantile of our own matches only
to about 1e-13.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["average_ranks", "binomial_half_p_value", "normal_cdf", "normal_two_sided_p", "signed_rank_p_value"]

_SQRT1_2 = math.sqrt(0.5)
_RELATIVE_TOLERANCE = 1 + 1e-7  # R's binom.test and SciPy's binomtest: "no more likely"


def average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranks of ``values`` (1-based, ties given their average rank) and the size of each
    group of equal values, smallest value first."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, ordered.size))
    ranks = np.empty(ordered.size, dtype=float)
    ranks[order] = np.repeat((starts + 1).astype(float) + (counts.astype(float) - 1) / 2, counts)
    return ranks, counts


def normal_cdf(x: float) -> float:
    """The standard normal distribution function: ``scipy.special.ndtr`` itself (Cephes), which
    ``scipy.stats.norm`` uses; the C library's ``erf`` differs from it in the last bit of about
    a third of the values, and a p value is printed to the last bit. ``scipy.special`` is a
    fraction of the cost of ``scipy.stats`` and is imported for the Clopper-Pearson interval
    anyway."""
    from scipy.special import ndtr

    return float(ndtr(x))


def normal_two_sided_p(z: float) -> float:
    """The two-sided p value of a standard normal statistic ``z``: ``2 Phi(-|z|)``."""
    return 2 * normal_cdf(-abs(z))


@lru_cache(maxsize=64)
def _signed_rank_distribution(n: int) -> np.ndarray:
    """P(V = v) for v = 0 ... n(n + 1)/2 with n differences, no ties and no zeros: each rank
    is added to V or not with probability 1/2 (SciPy's recurrence, so the same sums)."""
    c = np.ones(1, dtype=np.float64)
    for k in range(1, n + 1):
        previous = c
        c = np.zeros(k * (k + 1) // 2 + 1, dtype=np.float64)
        m = len(previous)
        c[:m] = previous * 0.5
        c[-m:] += previous * 0.5
    c.flags.writeable = False
    return c


def signed_rank_p_value(v: float, n: int, tie_counts: np.ndarray, *, exact: bool) -> float:
    """The two-sided p value of the signed-rank statistic ``v`` (the sum of the ranks of the
    positive differences) over ``n`` non-zero differences whose absolute values fall in groups
    of ties of sizes ``tie_counts``; ``exact`` only without ties and zeros (R's rule decides)."""
    if exact:
        pmf = _signed_rank_distribution(n)
        mean = n * (n + 1) / 4
        k_low, k_high = int(np.floor(v)), int(np.ceil(v))
        sf = pmf[k_low:].sum() if k_low <= mean else 1 - pmf[:k_low].sum()
        cdf = pmf[:k_high + 1].sum() if k_high <= mean else 1 - pmf[k_high + 1:].sum()
        return float(np.clip(2 * min(float(sf), float(cdf)), 0, 1))
    count = float(n)
    mean = count * (count + 1.) * 0.25
    t = np.asarray(tie_counts, dtype=np.float64)
    tie_correction = float(np.sum(t ** 3 - t))
    se = math.sqrt((count * (count + 1.) * (2. * count + 1.) - tie_correction / 2) / 24)
    z = (v - mean) / se
    z = z - (0.0 if z == 0 else math.copysign(1.0, z)) * 0.5 / se
    return normal_two_sided_p(z)


def _comb_sum(n: int, k: int) -> int:
    """The sum of ``C(n, i)`` for ``i = 0 ... k``, exactly (0 when k < 0)."""
    if k < 0:
        return 0
    if k >= n:
        return 1 << n
    if k > n // 2:  # the shorter sum: C(n, i) = C(n, n - i)
        return (1 << n) - _comb_sum(n, n - k - 1)
    term = total = 1
    for i in range(k):  # the terms of one binomial tail, C(n, i + 1) = C(n, i) (n - i) / (i + 1)
        term = term * (n - i) // (i + 1)
        total += term
    return total


def _pmf(x: float, n: int) -> float:
    """P(X = x) for X binomial(n, 1/2), correctly rounded."""
    x = int(x)
    return 0.0 if x < 0 or x > n else math.comb(n, x) / (1 << n)


def _cdf(x: float, n: int) -> float:
    """P(X <= x) for X binomial(n, 1/2), correctly rounded."""
    return _comb_sum(n, math.floor(x)) / (1 << n)


def _sf(x: float, n: int) -> float:
    """P(X > x) for X binomial(n, 1/2), correctly rounded (by symmetry, P(X <= n - x - 1))."""
    k = math.floor(x)
    if k < 0:
        return 1.0
    return _comb_sum(n, n - k - 1) / (1 << n)


def _search(a, d: float, lo: float, hi: float) -> float:
    """SciPy's ``_binary_search_for_binom_tst``: the i in [lo, hi] with a(i) <= d < a(i + 1),
    ``a`` increasing over the range."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1


def binomial_half_p_value(k: int, n: int) -> float:
    """The two-sided binomial test of ``k`` successes in ``n`` trials with probability 1/2, as
    ``scipy.stats.binomtest(k, n, 0.5).pvalue`` and R's ``binom.test(k, n)$p.value``."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"k = {k} and n = {n}: give 0 <= k <= n and n >= 1")
    d = _pmf(k, n)
    middle = 0.5 * n
    if k == middle:
        return 1.0
    if k < middle:
        ix = _search(lambda x: -_pmf(x, n), -d * _RELATIVE_TOLERANCE, math.ceil(middle), n)
        y = n - ix + int(d * _RELATIVE_TOLERANCE == _pmf(ix, n))
        p = _cdf(k, n) + _sf(n - y, n)
    else:
        ix = _search(lambda x: _pmf(x, n), d * _RELATIVE_TOLERANCE, 0, math.floor(middle))
        p = _cdf(ix, n) + _sf(k - 1, n)
    return min(1.0, p)

