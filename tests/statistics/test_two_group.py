"""Group tests agree with R: fisher.test, wilcox.test, survdiff, kruskal.test and chisq.test.

R 4.2.2 with survival 3.5.3, ``Rscript groups.R``::

    library(survival)
    f <- function(x) sprintf("%.15g", x)
    fisher <- function(name, ya, na, yb, nb) {
      r <- fisher.test(matrix(c(ya, na - ya, yb, nb - yb), 2))
      cat(sprintf("fisher %s: p = %s, or = %s, ci = %s %s\\n", name, f(r$p.value), f(r$estimate), f(r$conf.int[1]), f(r$conf.int[2])))
    }
    fisher("a", 5, 9, 2, 8); fisher("b", 0, 10, 6, 10); fisher("c", 7, 7, 0, 5); fisher("d", 12, 30, 20, 31); fisher("e", 3, 3, 4, 4)
    mw <- function(name, a, b) {
      r <- wilcox.test(a, b)
      cat(sprintf("wilcox %s: W = %s, p = %s, %s\\n", name, f(r$statistic), f(r$p.value), r$method))
    }
    mw("exact", c(1.2, 3.4, 5.6, 2.2, 8.1), c(0.5, 1.1, 2.0))
    suppressWarnings(mw("ties", c(1, 2, 2, 3, 5, 6), c(2, 3, 4, 4, 7, 8, 9)))
    mw("large", ((1:55) * 37) %% 101 / 10, ((1:52) * 53) %% 103 / 10 + 0.05)
    suppressWarnings(mw("equal", c(2, 2), c(2, 2, 2)))
    lr <- function(name, time, status, group) {
      r <- survdiff(Surv(time, status) ~ group)
      df <- sum(r$exp > 0) - 1
      cat(sprintf("survdiff %s: chisq = %s, df = %d, p = %s\\n  obs = %s; exp = %s\\n", name, f(r$chisq), df,
          f(pchisq(r$chisq, df, lower.tail = FALSE)), paste(f(r$obs), collapse = " "), paste(f(r$exp), collapse = " ")))
    }
    lr("two", c(5, 8, 12, 12, 20, 30, 3, 6, 6, 9, 15, 40), c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1),
       c("a", "a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b"))
    lr("three", c(10, 20, 30, 40, 50, 15, 25, 35, 45, 12, 22, 22, 60), c(1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1),
       c("x", "x", "x", "x", "x", "y", "y", "y", "y", "z", "z", "z", "z"))
    kw <- function(name, ...) {
      r <- kruskal.test(list(...))
      cat(sprintf("kruskal %s: chisq = %s, df = %d, p = %s\\n", name, f(r$statistic), r$parameter, f(r$p.value)))
    }
    kw("ties", c(2.1, 3.5, 3.5, 4.0), c(5.5, 6.0, 3.5, 7.1, 8.0), c(1.0, 2.1, 2.5))
    kw("plain", c(10, 12, 15), c(20, 22, 19, 30), c(5, 8, 11))
    cs <- function(name, yes, n) {
      r <- suppressWarnings(chisq.test(rbind(yes, n - yes)))
      cat(sprintf("chisq %s: X2 = %s, df = %d, p = %s, min expected = %s\\n", name, f(r$statistic), r$parameter, f(r$p.value), f(min(r$expected))))
    }
    cs("three", c(5, 9, 3), c(12, 14, 11)); cs("two", c(5, 9), c(12, 14)); cs("big", c(30, 45, 20, 38), c(60, 70, 55, 64))
    cs("small", c(1, 3, 2), c(4, 5, 3))

Output::

    fisher a: p = 0.334841628959276, or = 3.45525051000939, ci = 0.337153623431434 54.2937086950646
    fisher b: p = 0.0108359133126935, or = 0, ci = 0 0.566044869601607
    fisher c: p = 0.00126262626262626, or = Inf, ci = 3.38773784467066 Inf
    fisher d: p = 0.074433350966129, or = 0.373034242739669, ci = 0.114225831070507 1.16080764467797
    fisher e: p = 1, or = 0, ci = 0 Inf
    wilcox exact: W = 14, p = 0.0714285714285714, Wilcoxon rank sum exact test
    wilcox ties: W = 10.5, p = 0.149727981895451, Wilcoxon rank sum test with continuity correction
    wilcox large: W = 1481, p = 0.752939718330356, Wilcoxon rank sum test with continuity correction
    wilcox equal: W = 3, p = NaN, Wilcoxon rank sum test with continuity correction
    survdiff two: chisq = 0.135636238162788, df = 1, p = 0.712658309811846
      obs = 4 5; exp = 4.50378787878788 4.49621212121212
    survdiff three: chisq = 0.470974767109067, df = 2, p = 0.790185632279859
      obs = 3 4 3; exp = 3.47682317682318 3.0499000999001 3.47327672327672
    kruskal ties: chisq = 7.7596975088968, df = 2, p = 0.0206539487633662
    kruskal plain: chisq = 7.43636363636364, df = 2, p = 0.0242780696858432
    chisq three: X2 = 3.52887382225618, df = 2, p = 0.171283207003542, min expected = 5.05405405405405
    chisq two: X2 = 0.575751133786848, df = 1, p = 0.447982576656919, min expected = 5.53846153846154
    chisq big: X2 = 10.9455719003903, df = 3, p = 0.012023859165205, min expected = 25.6224899598394
    chisq small: X2 = 1.53333333333333, df = 2, p = 0.464559020360911, min expected = 1.5
"""

import json
import math

import pytest

from cnotrack.statistics import GroupTest, chi_squared, fisher_exact, kruskal_wallis, log_rank, mann_whitney
from cnotrack.statistics._rootfind import uniroot

R_FISHER = {  # (yes_a, n_a, yes_b, n_b): p, odds ratio, lower, upper
    (5, 9, 2, 8): (0.334841628959276, 3.45525051000939, 0.337153623431434, 54.2937086950646),
    (0, 10, 6, 10): (0.0108359133126935, 0, 0, 0.566044869601607),
    (7, 7, 0, 5): (0.00126262626262626, math.inf, 3.38773784467066, math.inf),
    (12, 30, 20, 31): (0.074433350966129, 0.373034242739669, 0.114225831070507, 1.16080764467797),
}


def _same(mine, r):
    return mine == r if r in (0, math.inf) else mine == pytest.approx(r, rel=1e-9)


@pytest.mark.parametrize("table", sorted(R_FISHER))
def test_fishers_exact_test_gives_rs_p_value_odds_ratio_and_interval(table):
    """R's uniroot stops at its 1.2e-4 tolerance; the port of its root finder gives R's digits."""
    result = fisher_exact(*table, variable="PGA none or minimal", labels=("anakinra", "TNF inhibitors"))
    p, odds, lower, upper = R_FISHER[table]
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert _same(result.estimate, odds) and _same(result.ci95[0], lower) and _same(result.ci95[1], upper)
    assert result.sizes == (table[1], table[3]) and "R fisher.test" in result.method


def test_fishers_exact_test_reads_as_a_sentence_and_as_plain_json():
    result = fisher_exact(5, 9, 2, 8, variable="PGA none or minimal", labels=("anakinra", "TNF inhibitors"))
    assert result.sentence() == (
        "PGA none or minimal: anakinra 5 of 9 (55.6%), TNF inhibitors 2 of 8 (25.0%) (Fisher's exact test, "
        "odds ratio 3.46, 95% CI 0.34 to 54.29, p = 0.335)")
    data = json.loads(json.dumps(fisher_exact(7, 7, 0, 5, variable="x", labels=("a", "b")).as_json()))
    assert data["estimate"] == "Inf" and data["ci95"][1] == "Inf" and data["per_group"][0]["yes"] == 7


def test_fishers_exact_test_is_not_made_for_an_empty_group_or_a_table_with_one_value():
    """R gives p = 1 and odds ratio 0 for ``fisher.test(matrix(c(3, 0, 4, 0), 2))`` (case ``e``):
    every patient yes, a table with one possible value; cnotrack makes no test and says why."""
    everyone = fisher_exact(3, 3, 4, 4, variable="x", labels=("a", "b"))
    assert everyone.p_value is None and everyone.estimate is None
    assert everyone.notes == ("every patient of both groups was yes, so the table has one possible value (R gives p = 1)",)
    empty = fisher_exact(0, 0, 4, 6, variable="x", labels=("a", "b"))
    assert empty.p_value is None and empty.notes == ("no patient in a",)
    assert "Fisher's exact test not made: no patient in a" in empty.sentence()
    with pytest.raises(ValueError, match="yes_a = 5 must be between 0 and its group size 4"):
        fisher_exact(5, 4, 1, 2, variable="x", labels=("a", "b"))


def test_the_root_finder_is_rs_uniroot_at_its_default_tolerance():
    """R: ``uniroot(function(x) x^3 - 2, c(0, 2))$root`` is 1.25993383506081 (not the exact
    2^(1/3) = 1.25992104989487)."""
    assert uniroot(lambda x: x ** 3 - 2, 0, 2) == pytest.approx(1.25993383506081, rel=1e-12)


LARGE_A = [(i * 37 % 101) / 10 for i in range(1, 56)]
LARGE_B = [(i * 53 % 103) / 10 + 0.05 for i in range(1, 53)]


@pytest.mark.parametrize("a, b, w, p, how", [
    ([1.2, 3.4, 5.6, 2.2, 8.1], [0.5, 1.1, 2.0], 14, 0.0714285714285714, "exact"),
    ([1, 2, 2, 3, 5, 6], [2, 3, 4, 4, 7, 8, 9], 10.5, 0.149727981895451, "(ties)"),
    (LARGE_A, LARGE_B, 1481, 0.752939718330356, "(50 or more values in a group)"),
])
def test_mann_whitney_gives_rs_w_and_p_value_by_rs_rule(a, b, w, p, how):
    result = mann_whitney(a, b, variable="ESR", labels=("anakinra", "TNF inhibitors"))
    assert result.statistic == w and result.statistic_name == "W"
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert how in result.method and "R wilcox.test" in result.method


def test_mann_whitney_drops_missing_values_and_counts_them():
    result = mann_whitney([1, 2, None, 2, 3, 5, 6], [2, 3, 4, None, 4, 7, 8, 9, float("nan")],
                          variable="ESR", labels=("a", "b"))
    assert (result.sizes, result.missing) == ((6, 7), (1, 2))
    assert result.p_value == pytest.approx(0.149727981895451, rel=1e-9)
    assert result.notes == ("1 patient(s) of a without a value left out", "2 patient(s) of b without a value left out")
    assert result.per_group[0] == {"group": "a", "n": 6, "median": 2.5, "q1": 2.0, "q3": 4.5}
    assert result.sentence() == ("ESR: a median 2.5 (IQR 2 to 4.5, n = 6), b median 4 (IQR 3.5 to 7.5, n = 7) "
                                 "(Mann-Whitney U test, W = 10.5, p = 0.150)")


def test_mann_whitney_is_not_made_when_a_group_is_empty_or_every_value_is_the_same():
    """R: ``wilcox.test(c(2, 2), c(2, 2, 2))`` gives W = 3 and p = NaN (case ``equal``)."""
    equal = mann_whitney([2, 2], [2, 2, 2], variable="x", labels=("a", "b"))
    assert (equal.statistic, equal.p_value) == (3, None)
    assert equal.notes == ("every value is the same, so the ranks cannot differ",)
    empty = mann_whitney([None], [1, 2], variable="x", labels=("a", "b"))
    assert empty.p_value is None and empty.notes[0] == "no value in a"


TWO = dict(days=[5, 8, 12, 12, 20, 30, 3, 6, 6, 9, 15, 40], event=[1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1],
           group=list("aaaaaabbbbbb"))
THREE = dict(days=[10, 20, 30, 40, 50, 15, 25, 35, 45, 12, 22, 22, 60], event=[1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1],
             group=list("xxxxxyyyyzzzz"))


@pytest.mark.parametrize("case, chisq, df, p, observed, expected", [
    (TWO, 0.135636238162788, 1, 0.712658309811846, [4, 5], [4.50378787878788, 4.49621212121212]),
    (THREE, 0.470974767109067, 2, 0.790185632279859, [3, 4, 3], [3.47682317682318, 3.0499000999001, 3.47327672327672]),
])
def test_the_log_rank_test_is_rs_survdiff(case, chisq, df, p, observed, expected):
    result = log_rank(case["days"], [bool(e) for e in case["event"]], case["group"], variable="Time to flare")
    assert result.statistic == pytest.approx(chisq, rel=1e-9) and result.df == df
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert [g["observed"] for g in result.per_group] == observed
    assert [g["expected"] for g in result.per_group] == pytest.approx(expected, rel=1e-9)


def test_the_log_rank_sentence_and_its_cases_without_a_test():
    result = log_rank(TWO["days"], [bool(e) for e in TWO["event"]], TWO["group"], variable="Time to flare")
    assert result.sentence() == ("Time to flare: a 4 events (4.5 expected) among 6, b 5 events (4.5 expected) "
                                 "among 6 (log-rank test, chi-squared = 0.14 on 1 df, p = 0.713)")
    none = log_rank([5, 8, 9], [False, False, False], ["a", "b", "b"], variable="t")
    assert none.p_value is None and none.notes == ("no event in any group",)
    one = log_rank([5, 8], [True, True], ["a", "a"], variable="t")
    assert one.p_value is None and one.notes == ("fewer than two groups to compare",)
    missing = log_rank([5, None, 8, 9], [True, True, False, True], ["a", "b", None, "b"], variable="t")
    assert missing.sizes == (1, 1) and missing.notes[-1] == "2 patient(s) without a time or a group left out"


@pytest.mark.parametrize("groups, h, p", [
    ({"a": [2.1, 3.5, 3.5, 4.0], "b": [5.5, 6.0, 3.5, 7.1, 8.0], "c": [1.0, 2.1, 2.5]},
     7.7596975088968, 0.0206539487633662),
    ({"a": [10, 12, 15], "b": [20, 22, 19, 30], "c": [5, 8, 11]}, 7.43636363636364, 0.0242780696858432),
])
def test_the_kruskal_wallis_test_is_rs(groups, h, p):
    result = kruskal_wallis(groups, variable="CRP")
    assert result.statistic == pytest.approx(h, rel=1e-9) and result.df == 2
    assert result.p_value == pytest.approx(p, rel=1e-9)


def test_the_kruskal_wallis_test_is_not_made_for_an_empty_group_or_equal_values():
    assert kruskal_wallis({"a": [1, 2], "b": [None]}, variable="x").notes == (
        "no value in b", "1 patient(s) of b without a value left out")
    assert kruskal_wallis({"a": [1, 1], "b": [1], "c": [1]}, variable="x").p_value is None


@pytest.mark.parametrize("yes, n, x2, df, p, low", [
    ((5, 9, 3), (12, 14, 11), 3.52887382225618, 2, 0.171283207003542, 0),
    ((5, 9), (12, 14), 0.575751133786848, 1, 0.447982576656919, 0),
    ((30, 45, 20, 38), (60, 70, 55, 64), 10.9455719003903, 3, 0.012023859165205, 0),
    ((1, 3, 2), (4, 5, 3), 1.53333333333333, 2, 0.464559020360911, 6),
])
def test_the_chi_squared_test_is_rs_chisq_test_and_notes_small_expected_counts(yes, n, x2, df, p, low):
    result = chi_squared({f"centre {i}": (y, m) for i, (y, m) in enumerate(zip(yes, n))}, variable="Female")
    assert result.statistic == pytest.approx(x2, rel=1e-9) and result.df == df
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert ("Yates" in result.method) == (len(yes) == 2)
    assert bool(result.notes) == bool(low)
    if low:
        assert result.notes[0].startswith(f"{low} of 6 expected counts are below 5 (smallest 1.50)")


def test_the_chi_squared_test_is_not_made_when_everyone_is_alike():
    assert chi_squared({"a": (3, 3), "b": (4, 4), "c": (1, 1)}, variable="x").notes == (
        "every patient was yes, so the groups cannot differ",)
    assert chi_squared({"a": (0, 0), "b": (4, 4), "c": (1, 3)}, variable="x").notes == ("no patient in a",)


def test_every_group_test_is_a_frozen_group_test_with_plain_json():
    results = [fisher_exact(5, 9, 2, 8, variable="x", labels=("a", "b")),
               mann_whitney([1, 2], [3, 4], variable="x", labels=("a", "b")),
               log_rank(TWO["days"], [bool(e) for e in TWO["event"]], TWO["group"], variable="x"),
               kruskal_wallis({"a": [1], "b": [2], "c": [3]}, variable="x"),
               chi_squared({"a": (1, 2), "b": (2, 3), "c": (0, 4)}, variable="x")]
    for result in results:
        assert isinstance(result, GroupTest)
        with pytest.raises(AttributeError):
            result.p_value = 0.5  # type: ignore[misc]
        data = json.loads(json.dumps(result.as_json()))
        assert data["sentence"] == result.sentence() and data["test"] == result.test
