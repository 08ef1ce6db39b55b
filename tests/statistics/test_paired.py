"""The paired tests agree with R's ``wilcox.test(before, after, paired = TRUE)`` and
``binom.test(b, b + c)`` (the exact McNemar test)."""

import pytest

from cnotrack.statistics import PGA_LEVELS, mcnemar_exact, wilcoxon_signed_rank


NA = None
N55_BEFORE = [i ** 1.5 for i in range(1, 56)]
N55_AFTER = [60 - i * 0.7 for i in range(1, 56)]
CASES = {
    # name: (before, after, V, p, "exact" or the reason for the approximation, pairs, dropped, zeros)
    "exact": ([35, 42, 28, 60, 22, 51, 38, 45], [12, 20, 25, 18, 24, 15, 10, 30],
              35, 0.015625, "exact", 8, 0, 0),
    "zeros": ([10, 12, 9, 15, 20, 8, 11, 14, 13], [10, 8, 9, 7, 14, 9, 8, 16, 6],
              25, 0.0759269629825577, "(zeros)", 9, 0, 2),
    "ties": ([3, 3, 2, 4, 3, 2, 4, 3, 3], [1, 1, 1, 2, 1, 1, 0, 2, 1],
             45, 0.0077447150887322, "(ties)", 9, 0, 0),
    "mixed": ([3, 2, NA, 4, 3, 2, 1, 3, 3, 2, 4], [1, 2, 1, NA, 4, 1, 3, 3, 1, 3, 2],
              18.5, 0.487877908403656, "(ties and zeros)", 9, 2, 2),
    "n55": (N55_BEFORE, N55_AFTER, 1381, 3.13568661729956e-07, "(50 or more pairs)", 55, 0, 0),
    "allpos": ([7, 8, 9, 10, 11, 12], [1, 1.5, 2.25, 3, 3.5, 4], 21, 0.03125, "exact", 6, 0, 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_wilcoxon_signed_rank_test_gives_rs_v_and_p(name):
    """R 4.2.2, ``Rscript wilcox.R``::

        show <- function(name, before, after) {
          r <- suppressWarnings(wilcox.test(before, after, paired = TRUE))
          cat(sprintf("%s: V = %.15g, p = %.15g, method = %s\\n", name, r$statistic, r$p.value, r$method))
        }
        # exact: no ties, no zeros, n < 50
        show("exact", c(35, 42, 28, 60, 22, 51, 38, 45), c(12, 20, 25, 18, 24, 15, 10, 30))
        # zeros (two pairs unchanged), no ties among the others
        show("zeros", c(10, 12, 9, 15, 20, 8, 11, 14, 13), c(10, 8, 9, 7, 14, 9, 8, 16, 6))
        # ties, no zeros (ordinal PGA coded 0..4)
        show("ties", c(3, 3, 2, 4, 3, 2, 4, 3, 3), c(1, 1, 1, 2, 1, 1, 0, 2, 1))
        # ties of both signs and zeros, with missing values (pairs dropped)
        show("mixed", c(3, 2, NA, 4, 3, 2, 1, 3, 3, 2, 4), c(1, 2, 1, NA, 4, 1, 3, 3, 1, 3, 2))
        # 55 pairs without ties or zeros: normal approximation because n >= 50
        before <- (1:55)^1.5; after <- 60 - (1:55) * 0.7
        d <- before - after; stopifnot(!any(d == 0), !anyDuplicated(abs(d)))
        show("n55", before, after)
        # all differences positive and distinct: the smallest exact p for n = 6
        show("allpos", c(7, 8, 9, 10, 11, 12), c(1, 1.5, 2.25, 3, 3.5, 4))

    Output::

        exact: V = 35, p = 0.015625, method = Wilcoxon signed rank exact test
        zeros: V = 25, p = 0.0759269629825577, method = Wilcoxon signed rank test with continuity correction
        ties: V = 45, p = 0.0077447150887322, method = Wilcoxon signed rank test with continuity correction
        mixed: V = 18.5, p = 0.487877908403656, method = Wilcoxon signed rank test with continuity correction
        n55: V = 1381, p = 3.13568661729956e-07, method = Wilcoxon signed rank test with continuity correction
        allpos: V = 21, p = 0.03125, method = Wilcoxon signed rank exact test
    """
    before, after, v, p, how, pairs, dropped, zeros = CASES[name]
    result = wilcoxon_signed_rank(before, after, variable="x")
    assert result.statistic == pytest.approx(v, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-6)
    assert (result.pairs, result.dropped_missing, result.zero_differences) == (pairs, dropped, zeros)
    if how == "exact":
        assert result.method == "Wilcoxon signed-rank test, exact"
    else:
        assert result.method == ("Wilcoxon signed-rank test with normal approximation and continuity "
                                 f"correction {how}")


def test_an_ordinal_scale_is_coded_in_its_order_for_the_test():
    """The ``ties`` case of the R script above, given as PGA levels (none = 0 ... severe = 4)."""
    before = [PGA_LEVELS[int(x)] for x in CASES["ties"][0]]
    after = [PGA_LEVELS[int(x)] for x in CASES["ties"][1]]
    result = wilcoxon_signed_rank(before, after, variable="PGA", levels=PGA_LEVELS)
    assert result.statistic == 45
    assert result.p_value == pytest.approx(0.0077447150887322, rel=1e-6)
    assert result.sentence() == ("PGA fell from a median of moderate to minimal "
                                 "(Wilcoxon signed-rank, 9 pairs, V = 45, p = 0.008)")


def test_an_unknown_level_is_refused_with_its_value():
    with pytest.raises(ValueError, match="'very bad'"):
        wilcoxon_signed_rank(["mild"], ["very bad"], variable="PGA", levels=PGA_LEVELS)


def test_the_sentence_gives_the_medians_the_pairs_v_and_p():
    result = wilcoxon_signed_rank(*CASES["exact"][:2], variable="ESR", unit="mm/h")
    assert (result.median_before, result.median_after) == (40.0, 19.0)
    assert result.median_difference == 22.5  # median of before - after: 23, 22, 3, 42, -2, 36, 28, 15
    assert result.sentence() == ("ESR fell from a median of 40 to 19 mm/h "
                                 "(Wilcoxon signed-rank, 8 pairs, V = 35, p = 0.016)")
    labelled = wilcoxon_signed_rank(*CASES["exact"][:2], variable="ESR", unit="mm/h",
                                    labels=("at baseline", "at 6 months"))
    assert labelled.sentence().startswith("ESR fell from a median of 40 mm/h at baseline to 19 mm/h at 6 months")


def test_the_json_says_which_difference_v_counts_and_carries_the_sentence():
    data = wilcoxon_signed_rank(*CASES["zeros"][:2], variable="CRP", unit="mg/L").as_json()
    assert data["statistic_name"] == "V" and data["difference"] == "before - after"
    assert data["zero_differences"] == 2 and data["pairs"] == 9
    assert data["sentence"].startswith("CRP fell from a median of")


def test_no_pairs_or_only_zero_differences_give_no_p_value():
    nothing = wilcoxon_signed_rank([1, None], [None, 2], variable="x")
    assert (nothing.pairs, nothing.dropped_missing, nothing.p_value) == (0, 2, None)
    assert "no patient had a value at both timepoints" in nothing.sentence()
    same = wilcoxon_signed_rank([1, 2], [1, 2], variable="x")
    assert same.p_value is None and same.zero_differences == 2
    assert "every difference is zero" in same.method


def test_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="3 values before but 2 after"):
        wilcoxon_signed_rank([1, 2, 3], [1, 2], variable="x")


R_MCNEMAR = {(5, 0): 0.0625, (0, 5): 0.0625, (1, 6): 0.125, (3, 3): 1.0, (7, 2): 0.1796875,
             (0, 1): 1.0, (10, 4): 0.1795654296875}


@pytest.mark.parametrize(("b", "c"), sorted(R_MCNEMAR))
def test_the_exact_mcnemar_test_is_rs_binomial_test_of_the_discordant_pairs(b, c):
    """R 4.2.2, ``Rscript mcnemar.R``::

        for (bc in list(c(5, 0), c(0, 5), c(1, 6), c(3, 3), c(7, 2), c(0, 1), c(10, 4))) {
          p <- binom.test(bc[1], bc[1] + bc[2])$p.value
          cat(sprintf("b = %d, c = %d: p = %.15g\\n", bc[1], bc[2], p))
        }

    Output::

        b = 5, c = 0: p = 0.0625
        b = 0, c = 5: p = 0.0625
        b = 1, c = 6: p = 0.125
        b = 3, c = 3: p = 1
        b = 7, c = 2: p = 0.1796875
        b = 0, c = 1: p = 1
        b = 10, c = 4: p = 0.1795654296875
    """
    # b pairs true -> false, c pairs false -> true, plus concordant pairs and missing ones
    before = [True] * b + [False] * c + [True, True, False, None, True]
    after = [False] * b + [True] * c + [True, True, False, True, None]
    result = mcnemar_exact(before, after, variable="ESR elevated")
    assert (result.b, result.c, result.pairs, result.dropped_missing) == (b, c, b + c + 3, 2)
    assert result.p_value == pytest.approx(R_MCNEMAR[(b, c)], rel=1e-6)
    assert result.method.startswith("exact McNemar test")


def test_the_mcnemar_sentence_gives_the_counts_at_each_timepoint():
    result = mcnemar_exact([True] * 8 + [False], [True] * 3 + [False] * 6, variable="ESR elevated",
                           labels=("at baseline", "at 6 months"))
    assert result.sentence() == ("ESR elevated: 8 of 9 patients at baseline and 3 of 9 at 6 months "
                                 "(exact McNemar, 9 pairs, b = 5, c = 0, p = 0.062)")
    assert result.as_json()["b"] == 5


def test_without_discordant_pairs_there_is_no_mcnemar_test():
    result = mcnemar_exact([True, False], [True, False], variable="x")
    assert result.p_value is None and "no discordant pairs" in result.method
    assert result.pairs == 2 and "no discordant pairs" in result.sentence()
