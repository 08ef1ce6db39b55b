"""Kaplan-Meier estimates agree with R's ``survfit(Surv(time, status) ~ 1)``: the curve, its
default log-scale 95% interval, the median with its interval, and ``summary(fit, times = ...)``.

R 4.2.2 with survival 3.5.3, ``Rscript km.R``::

    library(survival)
    show <- function(name, time, status, times) {
      fit <- survfit(Surv(time, status) ~ 1)   # conf.type = "log" is the default
      q <- quantile(fit, 0.5)
      cat(sprintf("%s: median = %.15g, lower = %.15g, upper = %.15g\\n", name, q$quantile, q$lower, q$upper))
      cat(sprintf("  curve: t = %s\\n", paste(fit$time, collapse = " ")))
      cat(sprintf("  surv  = %s\\n", paste(sprintf("%.15g", fit$surv), collapse = " ")))
      cat(sprintf("  lower = %s\\n", paste(sprintf("%.15g", fit$lower), collapse = " ")))
      cat(sprintf("  upper = %s\\n", paste(sprintf("%.15g", fit$upper), collapse = " ")))
      s <- summary(fit, times = times)
      cat(sprintf("  at %s: n.risk %s; n.event %s; n.censor %s; surv %s\\n", paste(s$time, collapse = " "),
          paste(s$n.risk, collapse = " "), paste(s$n.event, collapse = " "), paste(s$n.censor, collapse = " "),
          paste(sprintf("%.15g", s$surv), collapse = " ")))
    }
    # the demo cohort's days to PGA none or minimal
    show("pga", c(185, 179, 188, 362, 275, 190, 511, 402, 178), c(1, 1, 1, 1, 1, 1, 0, 0, 1),
         c(0.5, 1, 2) * 365.25)
    # the curve is flat at exactly 0.5 between days 5 and 8: R takes the midpoint
    show("flat", c(1, 2, 3, 4, 5, 8, 9, 10, 12, 15), c(1, 1, 1, 1, 1, 1, 0, 1, 0, 1), c(3, 6, 11))
    # the curve falls to 0: the limits are NA from there on
    show("zero", c(2, 4, 4, 6, 9, 11), c(1, 1, 0, 1, 1, 1), c(1, 4, 10))
    # heavy censoring and ties of events with censoring: median not reached
    show("censored", c(30, 60, 60, 90, 120, 150, 200, 200, 250, 300, 365, 400),
         c(1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0), c(100, 200, 365, 1000))
    # a larger sample with ties
    show("larger", c(5, 8, 8, 12, 15, 15, 15, 20, 22, 25, 30, 30, 34, 40, 41, 45, 50, 60, 60, 70),
         c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0), c(10, 20, 30, 45, 70))

Output::

    pga: median = 190, lower = 185, upper = NA
      curve: t = 178 179 185 188 190 275 362 402 511
      surv  = 0.888888888888889 0.777777777777778 0.666666666666667 0.555555555555555 0.444444444444444 0.333333333333333 0.222222222222222 0.222222222222222 0.222222222222222
      lower = 0.705557501515943 0.548521190012713 0.420028358578948 0.309705006872564 0.214088528120615 0.132317866507894 0.0654591049304283 0.0654591049304283 0.0654591049304283
      upper = 1 1 1 0.996567599682496 0.922659733015886 0.839728708174735 0.754405610982124 0.754405610982124 0.754405610982124
      at 182.625 365.25: n.risk 7 2; n.event 2 5; n.censor 0 0; surv 0.777777777777778 0.222222222222222
    flat: median = 6.5, lower = 3, upper = NA
      curve: t = 1 2 3 4 5 8 9 10 12 15
      surv  = 0.9 0.8 0.7 0.6 0.5 0.4 0.4 0.266666666666667 0.266666666666667 0
      lower = 0.732011642743993 0.586817701233814 0.466533226139489 0.361719529254716 0.269027355063545 0.187236731482291 0.187236731482291 0.0885056237899241 0.0885056237899241 NA
      upper = 1 1 1 0.995246236059581 0.929273530347683 0.854533182315957 0.854533182315957 0.803464323124817 0.803464323124817 NA
      at 3 6 11: n.risk 8 5 2; n.event 3 2 2; n.censor 0 0 1; surv 0.7 0.5 0.266666666666667
    zero: median = 6, lower = 4, upper = NA
      curve: t = 2 4 6 9 11
      surv  = 0.833333333333333 0.666666666666667 0.444444444444444 0.222222222222222 0
      lower = 0.58265479547714 0.378606460887095 0.166807936628079 0.040702897480905 NA
      upper = 1 1 1 1 NA
      at 1 4 10: n.risk 6 5 1; n.event 0 2 2; n.censor 0 1 0; surv 1 0.666666666666667 0.222222222222222
    censored: median = NA, lower = 250, upper = NA
      curve: t = 30 60 90 120 150 200 250 300 365 400
      surv  = 0.916666666666667 0.833333333333333 0.833333333333333 0.729166666666667 0.729166666666667 0.729166666666667 0.546875 0.546875 0.546875 0.546875
      lower = 0.772900973689615 0.647036987013362 0.647036987013362 0.506603972230599 0.506603972230599 0.506603972230599 0.279040850944312 0.279040850944312 0.279040850944312 0.279040850944312
      upper = 1 1 1 1 1 1 1 1 1 1
      at 100 200 365: n.risk 8 6 2; n.event 2 1 1; n.censor 2 3 2; surv 0.833333333333333 0.729166666666667 0.546875
    larger: median = 34, lower = 25, upper = NA
      curve: t = 5 8 12 15 20 22 25 30 34 40 41 45 50 60 70
      surv  = 0.95 0.9 0.847058823529412 0.741176470588235 0.684162895927602 0.684162895927602 0.621966269025093 0.559769642122583 0.48979843685726 0.419827231591937 0.419827231591937 0.33586178527355 0.33586178527355 0.223907856849033 0.223907856849033
      lower = 0.85912802773588 0.777674202195885 0.701660783491364 0.569131508770398 0.503191022457863 0.503191022457863 0.434105885456044 0.369741744539557 0.29991333942157 0.2359457862464 0.2359457862464 0.162834385924907 0.162834385924907 0.0761096323111931 0.0761096323111931
      upper = 1 1 1 0.965229568365458 0.930221023971546 0.930221023971546 0.891123693010064 0.8474619294942 0.799906096909545 0.747014418821136 0.747014418821136 0.692747653798115 0.692747653798115 0.658717258726713 0.658717258726713
      at 10 20 30 45 70: n.risk 17 13 10 5 1; n.event 2 4 2 3 1; n.censor 1 1 2 1 3; surv 0.9 0.684162895927602 0.559769642122583 0.33586178527355 0.223907856849033
"""

import numpy as np
import pytest

from cnotrack.statistics import kaplan_meier, kaplan_meier_by_group
from cnotrack.statistics.survival import DAYS_PER_YEAR

NA = None


def _floats(text: str) -> list[float | None]:
    return [None if x == "NA" else float(x) for x in text.split()]


# name: time (days), status, summary times (days), R's median/lower/upper (days),
#       R's curve (t, surv, lower, upper), R's summary (time, n.risk, n.event, n.censor, surv)
R = {
    "pga": dict(
        time=[185, 179, 188, 362, 275, 190, 511, 402, 178], status=[1, 1, 1, 1, 1, 1, 0, 0, 1],
        times=[0.5 * DAYS_PER_YEAR, 1 * DAYS_PER_YEAR, 2 * DAYS_PER_YEAR], median=(190, 185, NA),
        curve=("178 179 185 188 190 275 362 402 511",
               "0.888888888888889 0.777777777777778 0.666666666666667 0.555555555555555 0.444444444444444 "
               "0.333333333333333 0.222222222222222 0.222222222222222 0.222222222222222",
               "0.705557501515943 0.548521190012713 0.420028358578948 0.309705006872564 0.214088528120615 "
               "0.132317866507894 0.0654591049304283 0.0654591049304283 0.0654591049304283",
               "1 1 1 0.996567599682496 0.922659733015886 0.839728708174735 0.754405610982124 "
               "0.754405610982124 0.754405610982124"),
        summary=("182.625 365.25", "7 2", "2 5", "0 0", "0.777777777777778 0.222222222222222")),
    "flat": dict(
        time=[1, 2, 3, 4, 5, 8, 9, 10, 12, 15], status=[1, 1, 1, 1, 1, 1, 0, 1, 0, 1], times=[3, 6, 11],
        median=(6.5, 3, NA),
        curve=("1 2 3 4 5 8 9 10 12 15",
               "0.9 0.8 0.7 0.6 0.5 0.4 0.4 0.266666666666667 0.266666666666667 0",
               "0.732011642743993 0.586817701233814 0.466533226139489 0.361719529254716 0.269027355063545 "
               "0.187236731482291 0.187236731482291 0.0885056237899241 0.0885056237899241 NA",
               "1 1 1 0.995246236059581 0.929273530347683 0.854533182315957 0.854533182315957 "
               "0.803464323124817 0.803464323124817 NA"),
        summary=("3 6 11", "8 5 2", "3 2 2", "0 0 1", "0.7 0.5 0.266666666666667")),
    "zero": dict(
        time=[2, 4, 4, 6, 9, 11], status=[1, 1, 0, 1, 1, 1], times=[1, 4, 10], median=(6, 4, NA),
        curve=("2 4 6 9 11", "0.833333333333333 0.666666666666667 0.444444444444444 0.222222222222222 0",
               "0.58265479547714 0.378606460887095 0.166807936628079 0.040702897480905 NA",
               "1 1 1 1 NA"),
        summary=("1 4 10", "6 5 1", "0 2 2", "0 1 0", "1 0.666666666666667 0.222222222222222")),
    "censored": dict(
        time=[30, 60, 60, 90, 120, 150, 200, 200, 250, 300, 365, 400],
        status=[1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0], times=[100, 200, 365, 1000], median=(NA, 250, NA),
        curve=("30 60 90 120 150 200 250 300 365 400",
               "0.916666666666667 0.833333333333333 0.833333333333333 0.729166666666667 0.729166666666667 "
               "0.729166666666667 0.546875 0.546875 0.546875 0.546875",
               "0.772900973689615 0.647036987013362 0.647036987013362 0.506603972230599 0.506603972230599 "
               "0.506603972230599 0.279040850944312 0.279040850944312 0.279040850944312 0.279040850944312",
               "1 1 1 1 1 1 1 1 1 1"),
        summary=("100 200 365", "8 6 2", "2 1 1", "2 3 2", "0.833333333333333 0.729166666666667 0.546875")),
    "larger": dict(
        time=[5, 8, 8, 12, 15, 15, 15, 20, 22, 25, 30, 30, 34, 40, 41, 45, 50, 60, 60, 70],
        status=[1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0], times=[10, 20, 30, 45, 70],
        median=(34, 25, NA),
        curve=("5 8 12 15 20 22 25 30 34 40 41 45 50 60 70",
               "0.95 0.9 0.847058823529412 0.741176470588235 0.684162895927602 0.684162895927602 "
               "0.621966269025093 0.559769642122583 0.48979843685726 0.419827231591937 0.419827231591937 "
               "0.33586178527355 0.33586178527355 0.223907856849033 0.223907856849033",
               "0.85912802773588 0.777674202195885 0.701660783491364 0.569131508770398 0.503191022457863 "
               "0.503191022457863 0.434105885456044 0.369741744539557 0.29991333942157 0.2359457862464 "
               "0.2359457862464 0.162834385924907 0.162834385924907 0.0761096323111931 0.0761096323111931",
               "1 1 1 0.965229568365458 0.930221023971546 0.930221023971546 0.891123693010064 0.8474619294942 "
               "0.799906096909545 0.747014418821136 0.747014418821136 0.692747653798115 0.692747653798115 "
               "0.658717258726713 0.658717258726713"),
        summary=("10 20 30 45 70", "17 13 10 5 1", "2 4 2 3 1", "1 1 2 1 3",
                 "0.9 0.684162895927602 0.559769642122583 0.33586178527355 0.223907856849033")),
}


def _fit(name):
    case = R[name]
    return kaplan_meier(case["time"], [bool(s) for s in case["status"]], label=name,
                        times_years=[t / DAYS_PER_YEAR for t in case["times"]])


def _days(years):
    return None if years is None else years * DAYS_PER_YEAR


def _approx(values):
    return [None if v is None else pytest.approx(v, rel=1e-6) for v in values]


@pytest.mark.parametrize("name", sorted(R))
def test_the_median_and_its_95_percent_interval_are_rs(name):
    """R's ``quantile(fit, 0.5)`` (see the module's docstring for the script and its output)."""
    result = _fit(name)
    mine = [_days(result.median_years), _days(result.median_ci95[0]), _days(result.median_ci95[1])]
    assert mine == _approx(R[name]["median"])


@pytest.mark.parametrize("name", sorted(R))
def test_the_curve_and_its_log_scale_interval_are_rs(name):
    """R's ``fit$time``, ``fit$surv``, ``fit$lower``, ``fit$upper`` with the default
    ``conf.type = "log"`` (see the module's docstring)."""
    result = _fit(name)
    points = [p for p in result.curve if p["events"] + p["censored"] > 0]  # R has no time-0 point
    times, surv, lower, upper = (_floats(t) for t in R[name]["curve"])
    assert [_days(p["time_years"]) for p in points] == _approx(times)
    assert [p["survival"] for p in points] == _approx(surv)
    assert [p["lower"] for p in points] == _approx(lower)
    assert [p["upper"] for p in points] == _approx(upper)


@pytest.mark.parametrize("name", sorted(R))
def test_the_at_risk_table_is_rs_summary_at_those_times(name):
    """R's ``summary(fit, times = ...)``; times after the last observation are left out as R
    does (see the module's docstring)."""
    result = _fit(name)
    times, n_risk, events, censored, surv = (_floats(t) for t in R[name]["summary"])
    assert [_days(r["time_years"]) for r in result.at_risk] == _approx(times)
    assert [r["n_risk"] for r in result.at_risk] == n_risk
    assert [r["events"] for r in result.at_risk] == events
    assert [r["censored"] for r in result.at_risk] == censored
    assert [r["survival"] for r in result.at_risk] == _approx(surv)


def test_a_curve_flat_at_one_half_has_rs_midpoint_median_not_lifelines_first_time():
    """lifelines' ``median_survival_time_`` is day 5 for the ``flat`` case; R gives 6.5."""
    from lifelines import KaplanMeierFitter

    case = R["flat"]
    assert KaplanMeierFitter().fit(case["time"], case["status"]).median_survival_time_ == 5
    assert _days(_fit("flat").median_years) == pytest.approx(6.5)


def test_the_counts_the_method_and_the_sentence_say_what_was_done():
    result = _fit("pga")
    assert (result.n, result.events, result.censored) == (9, 7, 2)
    assert 'conf.type = "log"' in result.method
    assert result.sentence() == ("pga: 7 events and 2 censored among 9 patients; median 0.52 years "
                                 "(95% CI 0.51 to not reached) (Kaplan-Meier).")
    data = result.as_json()
    assert data["median_ci95"][1] is None and data["at_risk"][0]["n_risk"] == 7


def test_no_durations_give_an_empty_result_and_bad_durations_are_refused():
    empty = kaplan_meier([], [], label="x")
    assert (empty.n, empty.median_years, empty.curve) == (0, None, [])
    with pytest.raises(ValueError, match="0 or more"):
        kaplan_meier([-1, 5], [True, False], label="x")
    with pytest.raises(ValueError, match="2 durations but 1 event flags"):
        kaplan_meier([1, 5], [True], label="x")


def test_the_plot_curve_is_what_the_figures_draw():
    from cnotrack.figures import km_svg

    curve = _fit("zero").plot_curve()
    assert curve["times"][0] == 0 and curve["survival"][0] == 1.0 and curve["survival"][-1] == 0.0
    assert [t * DAYS_PER_YEAR for t in curve["censor_times"]] == pytest.approx([4])
    assert curve["at_risk"][0] == [0.0, 6]
    assert km_svg([curve]).lstrip().startswith("<")


RULES = {  # name: time, status, R's (median, lower, upper) in days for quantile() and for "first"
    "flat": ([1, 2, 3, 4, 5, 8, 9, 10, 12, 15], [1, 1, 1, 1, 1, 1, 0, 1, 0, 1], (6.5, 3, NA), (5, 3, NA)),
    "larger": (R["larger"]["time"], R["larger"]["status"], (34, 25, NA), (34, 25, NA)),
    "ends at 0.5": ([2, 4, 6, 8], [1, 1, 0, 0], (6, 2, NA), (4, 2, NA)),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_the_median_rule_midpoint_is_rs_quantile_and_first_is_the_first_time_at_or_below_one_half(name):
    """Which of R's functions takes the midpoint where the curve is flat at exactly 0.5?
    R 4.2.2, survival 3.5.3, ``Rscript kmrule.R``::

        library(survival)
        eps <- sqrt(.Machine$double.eps)
        first <- function(time, s) { r <- time[!is.na(s) & s <= 0.5 + eps]; if (length(r)) min(r) else NA }
        rules <- function(name, time, status) {
          fit <- survfit(Surv(time, status) ~ 1)
          q <- quantile(fit, 0.5); tab <- summary(fit)$table
          cat(sprintf("%s: quantile() %g [%g, %g]; print() %g [%g, %g]; first %g [%g, %g]\\n", name,
              q$quantile, q$lower, q$upper, tab["median"], tab["0.95LCL"], tab["0.95UCL"],
              first(fit$time, fit$surv), first(fit$time, fit$lower), first(fit$time, fit$upper)))
        }
        rules("flat", c(1, 2, 3, 4, 5, 8, 9, 10, 12, 15), c(1, 1, 1, 1, 1, 1, 0, 1, 0, 1))
        rules("larger", c(5, 8, 8, 12, 15, 15, 15, 20, 22, 25, 30, 30, 34, 40, 41, 45, 50, 60, 60, 70),
              c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0))
        rules("ends at 0.5", c(2, 4, 6, 8), c(1, 1, 0, 0))
        # one fit per group
        time <- c(5, 8, 12, 12, 20, 30, 3, 6, 6, 9, 15, 40); status <- c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1)
        group <- rep(c("a", "b"), each = 6)
        q <- quantile(survfit(Surv(time, status) ~ group), 0.5)
        cat(sprintf("by group: %s median %s lower %s upper %s\\n", paste(rownames(q$quantile), collapse = " "),
            paste(q$quantile, collapse = " "), paste(q$lower, collapse = " "), paste(q$upper, collapse = " ")))

    Output::

        flat: quantile() 6.5 [3, NA]; print() 6.5 [3, NA]; first 5 [3, NA]
        larger: quantile() 34 [25, NA]; print() 34 [25, NA]; first 34 [25, NA]
        ends at 0.5: quantile() 6 [2, NA]; print() 4 [2, NA]; first 4 [2, NA]
        by group: group=a group=b median 16 10.5 lower 8 6 upper NA NA

    Where the curve is flat at 0.5 and falls later (``flat``), ``quantile()`` and ``print()``
    both give the midpoint 6.5 (not the first time, 5); where it ends at 0.5 (``ends at 0.5``),
    ``quantile()`` gives the midpoint to the last observed time (6) and ``print()`` the first
    time (4). The rule ``"midpoint"`` is ``quantile()``'s; ``"first"`` is the first time.
    """
    time, status, midpoint, first = RULES[name]
    for rule, expected in (("midpoint", midpoint), ("first", first)):
        result = kaplan_meier(time, [bool(s) for s in status], label=name, median_rule=rule)
        mine = [_days(result.median_years), _days(result.median_ci95[0]), _days(result.median_ci95[1])]
        assert mine == _approx(expected), rule
        assert f'median rule "{rule}"' in result.method


def test_an_unknown_median_rule_is_refused_by_name():
    with pytest.raises(ValueError, match="median_rule 'last' is not one of"):
        kaplan_meier([1, 2], [True, True], label="x", median_rule="last")  # type: ignore[arg-type]


def test_kaplan_meier_by_group_fits_each_group_as_rs_survfit_by_group():
    """R's ``quantile(survfit(Surv(time, status) ~ group), 0.5)`` (``by group`` in the output
    of the previous test's script): a 16 (8 to NA), b 10.5 (6 to NA)."""
    time = [5, 8, 12, 12, 20, 30, 3, 6, 6, 9, 15, 40]
    status = [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1]
    fits = kaplan_meier_by_group(time, [bool(s) for s in status], list("aaaaaabbbbbb"), label="Time to flare")
    assert list(fits) == ["a", "b"]
    assert [_days(fits["a"].median_years), _days(fits["a"].median_ci95[0]), fits["a"].median_ci95[1]] == \
        _approx([16, 8, None])
    assert [_days(fits["b"].median_years), _days(fits["b"].median_ci95[0]), fits["b"].median_ci95[1]] == \
        _approx([10.5, 6, None])
    assert (fits["a"].label, fits["a"].n, fits["b"].events) == ("Time to flare: a", 6, 5)
    with pytest.raises(ValueError, match="2 durations, 2 event flags and 1 groups"):
        kaplan_meier_by_group([1, 2], [True, False], ["a"], label="x")


@pytest.mark.parametrize("seed", range(6))
def test_the_numpy_product_limit_estimate_is_lifelines_kaplan_meier_to_the_bit(seed):
    """The curve is computed with NumPy as lifelines' ``KaplanMeierFitter`` computes it: the
    same event table, the same survival values, bit for bit (ties, censoring at event times,
    durations of 0 and an empty tail included)."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    days = rng.integers(0, 60 if seed % 2 else 3000, n).astype(float)
    event = rng.random(n) < (0.3 + 0.1 * seed)
    result = kaplan_meier(days, event, label="x")
    fitter = KaplanMeierFitter().fit(days / 365.25, event, label="x")
    table = fitter.event_table
    assert [p["time_years"] for p in result.curve] == table.index.to_numpy(dtype=float).tolist()
    assert [p["n_risk"] for p in result.curve] == table["at_risk"].astype(int).tolist()
    assert [p["events"] for p in result.curve] == table["observed"].astype(int).tolist()
    assert [p["censored"] for p in result.curve] == table["censored"].astype(int).tolist()
    assert [p["survival"] for p in result.curve] == fitter.survival_function_["x"].to_numpy(dtype=float).tolist()


def test_patient_rows_read_as_the_list_of_dicts_of_their_table():
    """A cohort's analysis keeps its patients as ``PatientRows`` (dicts made on first use): they
    read and compare as ``DataFrame.to_dicts()`` and the detail JSON carries plain lists."""
    import json

    import polars as pl

    from cnotrack.statistics.survival import PatientRows, kaplan_meier

    frame = pl.DataFrame({"patient_id": ["P1", "P2", "P3"], "days": [10, 20, 30], "event": [True, False, True]})
    rows = PatientRows(frame)
    assert len(rows) == 3
    assert rows == frame.to_dicts() and frame.to_dicts() == rows and rows == PatientRows(frame)
    assert rows[1] == {"patient_id": "P2", "days": 20, "event": False} and rows[-1]["patient_id"] == "P3"
    assert [r["days"] for r in rows] == [10, 20, 30] and rows[:1] == frame.to_dicts()[:1]
    assert PatientRows(frame.clear()) == [] and not PatientRows(frame.clear())
    result = kaplan_meier(frame["days"], frame["event"], label="x")
    from dataclasses import replace

    result = replace(result, subjects=rows, excluded=PatientRows(frame.head(0).select("patient_id")))
    body = result.as_json(detail=True)
    assert body["subjects"] == frame.to_dicts() and type(body["subjects"]) is list
    assert body["excluded"] == 0 and body["excluded_patients"] == []
    json.dumps(body)
