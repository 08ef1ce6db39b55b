"""The stratified statistics (``cnotrack.statistics.stratified``) against SciPy.

With one stratum the van Elteren test is the Mann-Whitney test with the normal approximation and
tie-corrected variance without continuity correction (SciPy ``mannwhitneyu(use_continuity=False,
method="asymptotic")``), and the stratified signed-rank test is R's ``wilcox.test(paired = TRUE,
exact = FALSE)`` (SciPy ``wilcoxon(zero_method="wilcox", correction=True, method="asymptotic")``);
Cochran's Q is Pearson's chi-squared of the centres x yes/no table (``chi2_contingency(correction=False)``);
binned quantiles are within half a bin of numpy's.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency, mannwhitneyu, wilcoxon

from cnotrack.statistics.stratified import (
    binned_quantiles,
    cochran_q,
    rank_sum_part,
    signed_rank_part,
    stratified_signed_rank,
    van_elteren,
)

SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_van_elteren_of_one_stratum_is_mann_whitney_without_continuity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 12, int(rng.integers(3, 30))).astype(float)  # ties on purpose
    b = rng.integers(2, 14, int(rng.integers(3, 30))).astype(float)
    ours = van_elteren([rank_sum_part(list(a) + [None], b)])
    theirs = mannwhitneyu(a, b, use_continuity=False, method="asymptotic")
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_stratified_signed_rank_of_one_stratum_is_wilcoxon_asymptotic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.integers(-6, 9, int(rng.integers(6, 60))).astype(float)  # zeros and ties on purpose
    if not d.any():
        d[0] = 1.0
    ours = stratified_signed_rank([signed_rank_part(d)])
    theirs = wilcoxon(d, zero_method="wilcox", correction=True, method="asymptotic")
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-9)
    nonzero = d[d != 0]
    assert min(ours["statistic"], nonzero.size * (nonzero.size + 1) / 2 - ours["statistic"]) == theirs.statistic


def test_strata_add_their_parts_and_a_one_group_stratum_adds_nothing() -> None:
    a1, b1, a2, b2 = [1.0, 2, 3, 8], [4.0, 5, 6], [10.0, 12, 12], [11.0, 13, 14, 15]
    both = van_elteren([rank_sum_part(a1, b1), rank_sum_part(a2, b2)])
    with_empty = van_elteren([rank_sum_part(a1, b1), rank_sum_part(a2, b2), rank_sum_part([1.0, 2.0], [])])
    assert both["p_value"] == with_empty["p_value"] and both["centres_used"] == 2
    # centre 2 alone: a rank-sum shifted by 10 gives the same within-centre ranks
    shifted = van_elteren([rank_sum_part(a1, b1), rank_sum_part([x + 100 for x in a2], [x + 100 for x in b2])])
    assert shifted["p_value"] == both["p_value"]
    assert van_elteren([rank_sum_part([1.0], [])])["p_value"] is None


@pytest.mark.parametrize("seed", SEEDS)
def test_cochrans_q_is_pearsons_chi_squared_of_the_centres(seed: int) -> None:
    rng = np.random.default_rng(seed)
    of = rng.integers(5, 60, int(rng.integers(2, 7)))
    yes = np.array([rng.integers(0, n + 1) for n in of])
    ours = cochran_q(list(zip(yes.tolist(), of.tolist())) + [(0, 0)])
    if yes.sum() in (0, of.sum()):
        assert ours["q"] is None
        return
    theirs = chi2_contingency(np.column_stack([yes, of - yes]), correction=False)
    assert ours["q"] == pytest.approx(theirs.statistic, rel=1e-9)
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours["df"] == of.size - 1
    assert 0 <= ours["i2_percent"] < 100


@pytest.mark.parametrize("width", [0.1, 0.25, 1.0, 5.0])
def test_binned_quantiles_are_within_half_a_bin(width: float) -> None:
    rng = np.random.default_rng(int(width * 100))
    values = rng.normal(3, 20, 301)
    bins = np.floor(values / width).astype(int)
    first = int(bins.min())
    counts = np.bincount(bins - first)
    got = binned_quantiles(counts.tolist(), width, first)
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    for ours, theirs in ((got["median"], median), (got["q1"], q1), (got["q3"], q3),
                         (got["minimum"], values.min()), (got["maximum"], values.max())):
        assert abs(ours - theirs) <= width / 2 + 1e-9
    assert binned_quantiles([0, 0], width)["median"] is None


def test_a_centre_listing_the_groups_the_other_way_round_is_turned_round() -> None:
    from cnotrack.federated.pooled import oriented_rank_sum

    a, b = [1.0, 4, 4, 9], [2.0, 3, 7]
    part = rank_sum_part(a, b) | {"groups": ["x", "y"]}
    turned = oriented_rank_sum(rank_sum_part(b, a) | {"groups": ["y", "x"]}, ["x", "y"])
    assert turned["rank_sum_a"] == part["rank_sum_a"] and (turned["n_a"], turned["n_b"]) == (4, 3)
    assert van_elteren([turned])["p_value"] == van_elteren([part])["p_value"]
