"""The paired tests' own p values (``cnotrack.statistics._distributions``) agree with
``scipy.stats`` (``wilcoxon``, ``binomtest``, ``rankdata``), which the evaluation no longer
imports, on random inputs: ties, zeros, fewer and more than 50 pairs, every value equal, tiny
and large numbers of discordant pairs. The R references are in ``test_paired.py``."""

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cnotrack.statistics import mcnemar_exact, wilcoxon_signed_rank
from cnotrack.statistics._distributions import (average_ranks, binomial_half_p_value, normal_cdf,
                                                signed_rank_p_value)

TOLERANCE = 1e-12


def _scipy_wilcoxon(before, after):
    """The p value as the paired test made it with SciPy: R's rule for exact or normal."""
    d = np.asarray(before, dtype=float) - np.asarray(after, dtype=float)
    nonzero = d[d != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    ties = np.unique(ranks).size != nonzero.size
    exact = nonzero.size < 50 and not ties and nonzero.size == d.size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.wilcoxon(d, zero_method="wilcox", correction=True, method="exact" if exact else "asymptotic")
    return float(result.pvalue), float(ranks[nonzero > 0].sum())


# small integer scales make ties and zeros common; wide floats make them rare
_values = st.one_of(st.integers(0, 4).map(float), st.integers(-30, 30).map(float),
                    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))
_pairs = st.integers(1, 120).flatmap(lambda n: st.tuples(st.lists(_values, min_size=n, max_size=n),
                                                         st.lists(_values, min_size=n, max_size=n)))


@settings(max_examples=200, deadline=None)
@given(_pairs)
def test_the_signed_rank_p_value_is_scipys(pair):
    before, after = pair
    ours = wilcoxon_signed_rank(before, after, variable="x")
    if all(b == a for b, a in zip(before, after)):
        assert ours.p_value is None
        return
    p, v = _scipy_wilcoxon(before, after)
    assert ours.statistic == v
    assert ours.p_value == p  # to the last bit, exact and normal approximation alike


def test_a_normal_approximation_whose_erf_differs_from_cephes_in_the_last_bit():
    before = list(range(1, 16))
    after = [0, 0, 1, 1, 3, 2, 2, 5, 1, 9, 12, 11, 20, 13, 16]
    assert wilcoxon_signed_rank(before, after, variable="x").p_value == _scipy_wilcoxon(before, after)[0]


@pytest.mark.parametrize("before, after", [([math.inf, 1, 2, 5], [math.inf, 0, 0, 1]),
                                           ([math.inf, 1], [math.inf, 1]), ([-math.inf], [-math.inf])])
def test_an_infinite_value_on_both_sides_gives_no_p_value_as_scipy(before, after):
    ours = wilcoxon_signed_rank(before, after, variable="x")
    p, v = _scipy_wilcoxon(before, after)
    assert math.isnan(ours.p_value) and math.isnan(p)
    assert ours.statistic == v or (math.isnan(ours.statistic) and math.isnan(v))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 49), st.randoms(use_true_random=False))
def test_the_exact_signed_rank_p_value_is_scipys_for_every_n_below_50(n, rng):
    """Distinct absolute values, random signs: SciPy's exact distribution, bit for bit."""
    magnitudes = np.array(rng.sample(range(1, 1000), n), dtype=float)
    d = magnitudes * np.array([rng.choice((-1.0, 1.0)) for _ in range(n)])
    ranks, ties = average_ranks(np.abs(d))
    v = float(ranks[d > 0].sum())
    expected = float(stats.wilcoxon(d, zero_method="wilcox", correction=True, method="exact").pvalue)
    assert signed_rank_p_value(v, n, ties, exact=True) == expected


def test_every_difference_equal_and_large_samples_agree_with_scipy():
    for before, after in (([5.0] * 60, [3.0] * 60), ([1.0] * 7, [2.0] * 7), (list(range(200)), [0.0] * 200),
                          ([1.0, 2.0] * 40, [2.0, 1.0] * 40)):
        p, _ = _scipy_wilcoxon(before, after)
        assert abs(wilcoxon_signed_rank(before, after, variable="x").p_value - p) <= TOLERANCE


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False)), max_size=200))
def test_average_ranks_are_scipys_rankdata(values):
    ranks, counts = average_ranks(np.array(values, dtype=float))
    assert np.array_equal(ranks, stats.rankdata(values)) if values else ranks.size == 0
    assert counts.sum() == len(values)
    if values:
        assert np.array_equal(counts, np.unique(values, return_counts=True)[1])


@settings(max_examples=400, deadline=None)
@given(st.floats(-40, 40, allow_nan=False))
def test_the_normal_distribution_function_is_scipys_ndtr(x):
    from scipy.special import ndtr

    assert normal_cdf(x) == float(ndtr(x))  # to the last bit: p values are printed whole


_discordant = st.one_of(st.integers(1, 30), st.integers(31, 3000), st.integers(3001, 25000))


@settings(max_examples=300, deadline=None)
@given(_discordant.flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_binomial_test_is_scipys_binomtest(case):
    k, n = case
    assert abs(binomial_half_p_value(k, n) - stats.binomtest(k, n, 0.5).pvalue) <= TOLERANCE


@pytest.mark.parametrize("k, n", [(0, 1), (1, 1), (0, 2), (1, 2), (3, 7), (4, 7), (446, 17291), (16845, 17291),
                                  (9999, 20000), (10000, 20001), (47, 19699)])
def test_the_binomial_test_is_scipys_at_its_edges(k, n):
    assert abs(binomial_half_p_value(k, n) - stats.binomtest(k, n, 0.5).pvalue) <= TOLERANCE


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=300))
def test_the_mcnemar_test_is_scipys_binomtest(pairs):
    before, after = [b for b, _ in pairs], [a for _, a in pairs]
    result = mcnemar_exact(before, after, variable="x")
    if result.b + result.c == 0:
        assert result.p_value is None
    else:
        assert abs(result.p_value - stats.binomtest(result.b, result.b + result.c, 0.5).pvalue) <= TOLERANCE


def test_the_paired_tests_do_not_import_scipy_stats():
    """The point of ``_distributions``: a paired test does not import ``scipy.stats`` (most of
    a second); the normal approximation takes ``ndtr`` from ``scipy.special``."""
    code = ("import sys\nfrom cnotrack.statistics import wilcoxon_signed_rank, mcnemar_exact\n"
            "wilcoxon_signed_rank([1, 2, 3, 4, 5, 6], [2, 1, 0, 0, 1, 1], variable='x')\n"
            "wilcoxon_signed_rank(list(range(60)), [0] * 60, variable='x')\n"
            "mcnemar_exact([True, True, False], [False, True, True], variable='x')\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy.stats')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

