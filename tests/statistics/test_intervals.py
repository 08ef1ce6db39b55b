"""Clopper-Pearson intervals agree with R's ``binom.test``."""

import pytest

from cnotrack.statistics import clopper_pearson

R_BINOM = {
    (0, 9): (0, 0.336267116879943),
    (9, 9): (0.663732883120057, 1),
    (5, 9): (0.212008506778868, 0.863004337734833),
    (2, 7): (0.0366925661760856, 0.709579136262657),
    (8, 9): (0.517503485082663, 0.997190863253401),
    (7, 9): (0.399906426283688, 0.971855026522102),
    (1, 1): (0.025, 1),
    (0, 1): (0, 0.975),
    (42, 77): (0.427904929006585, 0.659401589723397),
}


@pytest.mark.parametrize(("k", "n"), sorted(R_BINOM))
def test_the_clopper_pearson_interval_is_rs_binom_test_interval(k, n):
    """R 4.2.2, ``Rscript binom.R``::

        for (k_n in list(c(0, 9), c(9, 9), c(5, 9), c(2, 7), c(8, 9), c(7, 9), c(1, 1), c(0, 1), c(42, 77))) {
          ci <- binom.test(k_n[1], k_n[2])$conf.int
          cat(sprintf("%d/%d: %.15g %.15g\\n", k_n[1], k_n[2], ci[1], ci[2]))
        }
        ci <- binom.test(5, 9, conf.level = 0.9)$conf.int
        cat(sprintf("5/9 at 90%%: %.15g %.15g\\n", ci[1], ci[2]))

    Output::

        0/9: 0 0.336267116879943
        9/9: 0.663732883120057 1
        5/9: 0.212008506778868 0.863004337734833
        2/7: 0.0366925661760856 0.709579136262657
        8/9: 0.517503485082663 0.997190863253401
        7/9: 0.399906426283688 0.971855026522102
        1/1: 0.025 1
        0/1: 0 0.975
        42/77: 0.427904929006585 0.659401589723397
        5/9 at 90%: 0.251367627408177 0.831249504012676
    """
    lower, upper = clopper_pearson(k, n)
    assert (lower, upper) == pytest.approx(R_BINOM[(k, n)], rel=1e-6, abs=1e-12)


def test_another_level_is_rs_binom_test_with_that_conf_level():
    """See the previous test's R script: ``binom.test(5, 9, conf.level = 0.9)``."""
    assert clopper_pearson(5, 9, level=0.9) == pytest.approx((0.251367627408177, 0.831249504012676), rel=1e-6)


def test_an_empty_denominator_has_no_interval():
    assert clopper_pearson(0, 0) is None


def test_the_limits_are_exactly_0_and_1_at_the_ends():
    assert clopper_pearson(0, 9)[0] == 0.0
    assert clopper_pearson(9, 9)[1] == 1.0


@pytest.mark.parametrize(("n", "of", "level"), [(5, 4, 0.95), (-1, 4, 0.95), (1, 4, 1.0), (1, 4, 0)])
def test_impossible_counts_and_levels_are_refused_with_the_values(n, of, level):
    with pytest.raises(ValueError, match=str(level) if level in (1.0, 0) else f"n = {n}"):
        clopper_pearson(n, of, level)
