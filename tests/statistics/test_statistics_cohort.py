"""Table 1, time to event and ``statistics_for`` on the demo cohort and on a small hand-worked one.

The demo's paired tests and time to a first new lesion were checked against R 4.2.2 (survival
3.5.3) with the per-patient values the evaluation chose, ``Rscript demo.R``::

    library(survival)
    esr0 <- c(38, 26, 72, 54, 21, 14, 22, 45, 33); esr6 <- c(10, 12, 18, 28, 19, 8, 21, 52, 15)
    crp0 <- c(27, 15, 82, 60, 19, 9, 38, 31, 24); crp6 <- c(2, 3, 4, 12, 8, 3, 7, 35, 4)
    les0 <- c(10, 6, 16, 9, 8, 4, 7, 12, 5); les6 <- c(3, 3, 10, 8, 5, 2, 6, 15, 3)
    lv <- c("none", "minimal", "mild", "moderate", "severe")
    pga0 <- match(c("moderate", "mild", "severe", "moderate", "moderate", "mild", "moderate", "severe", "moderate"), lv) - 1
    pga6 <- match(c("none", "minimal", "minimal", "mild", "mild", "minimal", "mild", "moderate", "minimal"), lv) - 1
    for (v in list(list("ESR", esr0, esr6), list("CRP", crp0, crp6), list("lesions", les0, les6), list("PGA", pga0, pga6))) {
      r <- suppressWarnings(wilcox.test(v[[2]], v[[3]], paired = TRUE))
      cat(sprintf("%s: V = %.15g, p = %.15g, %s\\n", v[[1]], r$statistic, r$p.value, r$method))
    }
    mc <- function(name, a, b) cat(sprintf("%s elevated: b = %d, c = %d, p = %.15g\\n", name, sum(a & !b), sum(!a & b),
                                            binom.test(sum(a & !b), sum(a & !b) + sum(!a & b))$p.value))
    mc("ESR", esr0 > 20, esr6 > 20); mc("CRP", crp0 > 5, crp6 > 5)
    mc("PGA none/minimal", pga0 <= 1, pga6 <= 1)
    fit <- survfit(Surv(c(548, 179, 188, 183, 176, 380, 181, 184, 178), c(0, 1, 1, 1, 1, 0, 1, 1, 1)) ~ 1)
    q <- quantile(fit, 0.5)
    cat(sprintf("new lesion: median = %.15g, lower = %.15g, upper = %.15g\\n", q$quantile, q$lower, q$upper))
    s <- summary(fit, times = c(0.5, 1, 2) * 365.25)
    cat(sprintf("  at %s: n.risk %s; n.event %s; n.censor %s\\n", paste(s$time, collapse = " "),
        paste(s$n.risk, collapse = " "), paste(s$n.event, collapse = " "), paste(s$n.censor, collapse = " ")))

Output::

    ESR: V = 41, p = 0.02734375, Wilcoxon signed rank exact test
    CRP: V = 44, p = 0.0078125, Wilcoxon signed rank exact test
    lesions: V = 39, p = 0.0567057228007549, Wilcoxon signed rank test with continuity correction
    PGA: V = 45, p = 0.00708640518404407, Wilcoxon signed rank test with continuity correction
    ESR elevated: b = 5, c = 0, p = 0.0625
    CRP elevated: b = 5, c = 0, p = 0.0625
    PGA none/minimal elevated: b = 0, c = 5, p = 0.0625
    new lesion: median = 183, lower = 179, upper = NA
      at 182.625 365.25: n.risk 5 2; n.event 4 3; n.censor 0 0

(The demo's time to PGA none or minimal is the ``pga`` case of ``test_survival.py``.)
"""

from __future__ import annotations

import datetime as dt
import json
import statistics as stdlib_statistics
from importlib import resources

import pytest
import yaml
from conftest import make_dataset

import cnotrack
from cnotrack.demo import demo_dataset
from cnotrack.engine import evaluate
from cnotrack.protocols import load_protocol, parse_protocol
from cnotrack.results import ProportionResult
from cnotrack.analysis import statistics_for, table_one, time_to_events, with_intervals
from cnotrack.statistics import CLOPPER_PEARSON, clopper_pearson
from cnotrack.statistics.survival import DAYS_PER_YEAR


@pytest.fixture(scope="module")
def demo():
    dataset = demo_dataset()
    return dataset, evaluate(dataset, load_protocol("pardeo2017"))


def test_table_one_of_the_demo_has_the_nine_patients_six_of_them_female(demo):
    dataset, evaluation = demo
    table = table_one(evaluation, dataset)
    assert table.n == 9
    assert table.row("Female") == ("Demographics", "Female", "6 (66.7%)", 9, 0)
    assert table.row("Male").value == "3 (33.3%)"
    for label in ("NSAID", "Bisphosphonate"):
        assert table.row(label, "Treatment before the index date").value == "9 (100.0%)"
    assert sum(s["count"] for r, s in zip(table.rows, table.statistics) if r.section == "Baseline PGA") == 9
    assert table.row("none", "Baseline PGA").value == table.row("minimal", "Baseline PGA").value == "0 (0.0%)"
    json.dumps(table.as_json())


def test_the_demo_ages_are_those_of_children_and_come_in_order(demo):
    dataset, evaluation = demo
    table = table_one(evaluation, dataset)
    stats = {r.variable: s for r, s in zip(table.rows, table.statistics)}
    onset, diagnosis, index = (stats[f"Age at {what} (years)"] for what in ("onset", "diagnosis", "the index date"))
    for age in (onset, diagnosis, index):
        assert age["n"] == 9 and 1 < age["min"] <= age["median"] <= age["max"] < 18
    assert onset["median"] <= diagnosis["median"] <= index["median"]
    # the median age at the index date, worked out independently with datetime
    births = {p["patient_id"]: dt.date.fromisoformat(p["birth_date"]) for p in dataset.patients.to_dicts()}
    ages = [(row["index_date"] - births[row["patient_id"]]).days / 365.25 for row in evaluation.cohort.eligible.to_dicts()]
    assert index["median"] == pytest.approx(stdlib_statistics.median(ages))


def test_the_demo_baseline_lesions_total_the_protocols_77(demo):
    dataset, evaluation = demo
    table = table_one(evaluation, dataset)
    row = table.row("Active lesions on the baseline bone scintigraphy")
    assert (row.n, row.missing) == (9, 0)
    assert sum(evaluation.patients["lesions@baseline"]) == evaluation.endpoints["month6.lesions.baseline_total"].value
    regions = [r for r in table.rows if r.variable.endswith(" involved")]
    assert len(regions) == len(cnotrack.anatomy().regions) and all(r.n == 9 for r in regions)


def test_the_demo_times_to_event_count_every_patient_once(demo):
    dataset, evaluation = demo
    results = time_to_events(evaluation, dataset)
    for result in results.values():
        assert result.n + len(result.excluded) == 9 and result.events + result.censored == result.n
        first = result.at_risk[0]
        assert first["time_years"] == 0.5 and first["n_risk"] + first["events"] + first["censored"] == result.n
    pga = results["time_to_pga_none_or_minimal"]
    assert pga.events == 7  # everyone who ever reached none or minimal after the index date
    assert {s["patient_id"] for s in pga.subjects if not s["event"]} == {"SYN-P07", "SYN-P08"}
    new = results["time_to_first_new_lesion"]
    assert new.events >= evaluation.endpoints["month6.patients_with_new_lesions"].n == 7
    assert [s["days"] for s in new.subjects] == [548, 179, 188, 183, 176, 380, 181, 184, 178]


def test_the_demo_time_to_a_new_lesion_is_rs(demo):
    """R's numbers are in the module's docstring (``new lesion``)."""
    dataset, evaluation = demo
    new = time_to_events(evaluation, dataset)["time_to_first_new_lesion"]
    assert new.median_years * DAYS_PER_YEAR == pytest.approx(183, rel=1e-6)
    assert new.median_ci95[0] * DAYS_PER_YEAR == pytest.approx(179, rel=1e-6) and new.median_ci95[1] is None
    assert [(r["n_risk"], r["events"], r["censored"]) for r in new.at_risk] == [(5, 4, 0), (2, 3, 0)]


R_DEMO_PAIRED = {
    "baseline_vs_month6.ESR": (41, 0.02734375, "exact"),
    "baseline_vs_month6.CRP": (44, 0.0078125, "exact"),
    "baseline_vs_month6.lesions": (39, 0.0567057228007549, "continuity correction (ties)"),
    "baseline_vs_month6.PGA": (45, 0.00708640518404407, "continuity correction (ties)"),
    "baseline_vs_month6.ESR_elevated": ((5, 0), 0.0625, "exact McNemar"),
    "baseline_vs_month6.CRP_elevated": ((5, 0), 0.0625, "exact McNemar"),
    "baseline_vs_month6.PGA_none_or_minimal": ((0, 5), 0.0625, "exact McNemar"),
}


def test_the_demo_paired_comparisons_are_rs(demo):
    """R's numbers are in the module's docstring."""
    dataset, evaluation = demo
    result = statistics_for(evaluation, dataset)
    assert sorted(result.paired) == sorted(R_DEMO_PAIRED)
    for key, (statistic, p, how) in R_DEMO_PAIRED.items():
        test = result.paired[key]
        assert test.pairs == 9 and test.dropped_missing == 0
        assert (test.b, test.c) == statistic if isinstance(statistic, tuple) else test.statistic == statistic
        assert test.p_value == pytest.approx(p, rel=1e-6)
        assert how in test.method
    assert result.paired["baseline_vs_month6.ESR"].sentence() == (
        "ESR fell from a median of 33 mm/h at baseline to 18 mm/h at 6 months "
        "(Wilcoxon signed-rank, 9 pairs, V = 41, p = 0.027)")


def test_statistics_for_gives_every_proportion_an_interval_and_plain_json(demo):
    dataset, evaluation = demo
    result = statistics_for(evaluation, dataset)
    proportions = [k for k, r in evaluation.endpoints.items() if isinstance(r, ProportionResult)]
    assert sorted(result.intervals) == sorted(proportions)
    assert result.intervals["month6.pga_none_or_minimal"]["ci95"] == pytest.approx([0.212008506778868, 0.863004337734833])
    data = json.loads(json.dumps(result.as_json()))
    assert set(data) == {"intervals", "paired", "survival", "table_one", "notes"}
    assert set(data["survival"]) == {"time_to_pga_none_or_minimal", "time_to_first_new_lesion"}
    # the engine already gives each proportion the same exact interval
    for key in proportions:
        assert list(evaluation.endpoints[key].ci95) == pytest.approx(result.intervals[key]["ci95"])


def test_with_intervals_puts_the_interval_into_the_evaluations_json():
    dataset = demo_dataset()
    evaluation = evaluate(dataset, load_protocol("pardeo2017"))
    with_intervals(evaluation)
    result = evaluation.endpoints["month6.patients_with_symptomatic_new_lesions"]
    assert (result.ci95, result.ci_method) == (clopper_pearson(2, 7), CLOPPER_PEARSON)
    assert evaluation.as_json(detail=False)["endpoints"]["month6.patients_with_symptomatic_new_lesions"]["ci95"] == \
        pytest.approx([0.0366925661760856, 0.709579136262657], rel=1e-6)
    assert evaluation.endpoints["cohort.n"].value == 9  # counts are left alone


# ---------------------------------------------------------------------- a hand-worked cohort

TREATMENTS = [
    {"patient_id": pid, "drug": drug, "start_date": start, "stop_date": stop}
    for pid in ("P1", "P2", "P3")
    for drug, start, stop in (("naproxen", "2012-06-01", "2012-12-01"), ("pamidronate", "2012-12-10", "2013-03-01"),
                              ("anakinra", "2013-03-15", None))
]
TABLES = dict(
    patients=[
        {"patient_id": "P1", "sex": "F", "birth_date": "2005-03", "onset_date": "2012-01-01", "diagnosis_date": "2012-06-01"},
        {"patient_id": "P2", "sex": "M", "birth_date": "2004-06-10", "onset_date": "2011-03-15", "diagnosis_date": None},
        {"patient_id": "P3", "sex": "F", "birth_date": None, "onset_date": None, "diagnosis_date": None},
    ],
    treatments=TREATMENTS,
    assessments=[
        {"patient_id": "P1", "date": "2013-03-15", "pga": "moderate"},
        {"patient_id": "P1", "date": "2013-09-13", "pga": "minimal"},    # day 182: the event
        {"patient_id": "P1", "date": "2014-03-15", "pga": "none"},
        {"patient_id": "P2", "date": "2013-03-15", "pga": "severe"},
        {"patient_id": "P2", "date": "2013-09-13", "pga": "mild"},
        {"patient_id": "P2", "date": "2014-01-10", "pga": "mild"},       # day 301: censored
        {"patient_id": "P3", "date": "2013-03-10", "pga": "mild"},
        {"patient_id": "P3", "date": "2013-10-01", "pga": None, "pain_vas": "2"},  # day 200, no PGA
    ],
    labs=[
        {"patient_id": "P2", "date": "2013-03-15", "test": "CRP", "value": "3.1", "unit": "mg/dL"},
        {"patient_id": "P2", "date": "2013-09-13", "test": "CRP", "value": "<0.5", "unit": "mg/dL"},
    ],
    imaging=[
        {"patient_id": "P1", "study_id": "P1-MR1", "date": "2013-03-10", "modality": "mri"},
        {"patient_id": "P2", "study_id": "P2-S1", "date": "2013-03-10", "modality": "bone_scintigraphy"},
        {"patient_id": "P2", "study_id": "P2-S2", "date": "2013-06-23", "modality": "bone_scintigraphy"},
        {"patient_id": "P2", "study_id": "P2-S3", "date": "2013-09-20", "modality": "bone_scintigraphy"},
        {"patient_id": "P3", "study_id": "P3-S1", "date": "2013-03-12", "modality": "bone_scintigraphy"},
    ],
    lesions=[
        {"study_id": "P1-MR1", "bone": "femur", "side": "left"},
        {"study_id": "P2-S1", "bone": "tibia", "side": "left", "segment": "distal_metaphysis"},
        {"study_id": "P2-S1", "bone": "femur", "side": "right", "segment": "distal_metaphysis"},
        {"study_id": "P2-S1", "bone": "clavicle", "side": "right", "segment": "medial", "activity": "inactive"},
        {"study_id": "P2-S2", "bone": "tibia", "side": "left", "segment": "distal_metaphysis"},
        {"study_id": "P2-S2", "bone": "clavicle", "side": "left", "segment": "medial"},   # new, day 100
        {"study_id": "P2-S3", "bone": "tibia", "side": "left", "segment": "distal_metaphysis"},
        {"study_id": "P3-S1", "bone": "T7", "segment": "body"},
    ],
)


@pytest.fixture
def small(tmp_path):
    dataset = cnotrack.load_dataset(make_dataset(tmp_path, **TABLES))
    evaluation = evaluate(dataset, load_protocol("pardeo2017"))
    assert evaluation.n == 3
    return dataset, evaluation


def test_a_birth_month_counts_from_the_15th_and_missing_dates_are_counted(small):
    dataset, evaluation = small
    table = table_one(evaluation, dataset)
    stats = {r.variable: (r, s) for r, s in zip(table.rows, table.statistics)}
    row, age = stats["Age at the index date (years)"]
    assert (row.n, row.missing) == (2, 1)
    assert age["min"] == pytest.approx(8.0)  # 2005-03-15 to 2013-03-15: 2922 days
    assert stats["Time from diagnosis to the index date (years)"][0][3:] == (1, 2)


def test_lesions_and_regions_come_from_the_baseline_study_of_the_protocols_modality(small):
    dataset, evaluation = small
    table = table_one(evaluation, dataset)
    count = table.row("Active lesions on the baseline bone scintigraphy")
    assert (count.n, count.missing) == (2, 1)  # P1 has only an MRI
    assert table.row("Lower limb involved").value == "1 (50.0%)"
    assert table.row("Spine involved").value == "1 (50.0%)"
    assert table.row("Chest and shoulder involved").value == "0 (0.0%)"  # the clavicle lesion is inactive
    assert table.row("CRP (mg/L)").value.startswith("31.0")


def test_time_to_events_excludes_patients_without_studies_and_says_why(small):
    dataset, evaluation = small
    results = time_to_events(evaluation, dataset)
    new = results["time_to_first_new_lesion"]
    assert new.subjects == [{"patient_id": "P2", "days": 100, "event": True}]
    assert new.excluded == [
        {"patient_id": "P1", "reason": "no baseline bone scintigraphy study"},
        {"patient_id": "P3", "reason": "no bone scintigraphy study after the baseline study and the index date"},
    ]
    pga = results["time_to_pga_none_or_minimal"]
    assert pga.subjects == [{"patient_id": "P1", "days": 182, "event": True},
                            {"patient_id": "P2", "days": 301, "event": False},
                            {"patient_id": "P3", "days": 200, "event": False}]


def test_paired_comparisons_drop_patients_without_both_values(small):
    dataset, evaluation = small
    result = statistics_for(evaluation, dataset)
    pga = result.paired["baseline_vs_month6.PGA_none_or_minimal"]
    assert (pga.pairs, pga.dropped_missing, pga.b, pga.c) == (2, 1, 0, 1)
    crp = result.paired["baseline_vs_month6.CRP"]
    assert (crp.pairs, crp.dropped_missing) == (1, 2)
    assert crp.notes == ("1 censored value(s) (such as <0.5) were used as their limit",)
    assert result.paired["baseline_vs_month6.CRP_elevated"].b == 1  # 31 mg/L, then <5 mg/L: normal
    json.dumps(result.as_json())


def test_values_the_protocols_endpoints_do_not_use_are_chosen_with_its_windows(demo):
    """A protocol whose only endpoint is the cohort size still gets the demo's baseline and
    month-6 values, chosen as the engine chooses them (the same numbers as pardeo2017's)."""
    dataset, full = demo
    text = resources.files("cnotrack.protocols.builtin").joinpath("pardeo2017.yaml").read_text("utf-8")
    definition = yaml.safe_load(text)
    definition["endpoints"] = [e for e in definition["endpoints"] if e["id"] == "cohort.n"]
    definition.pop("summary", None)
    bare = evaluate(dataset, parse_protocol(yaml.safe_dump(definition)))
    assert "ESR@baseline" not in bare.patients.columns
    mine, theirs = statistics_for(bare, dataset), statistics_for(full, dataset)
    assert mine.table_one.rows == theirs.table_one.rows
    assert {k: t.as_json() for k, t in mine.paired.items()} == {k: t.as_json() for k, t in theirs.paired.items()}
    assert mine.survival["time_to_first_new_lesion"].subjects == theirs.survival["time_to_first_new_lesion"].subjects


# ---------------------------------------------------------------------- pairs other than baseline/month6

def _demo_with_timepoints(paired_tests):
    """The demo under pardeo2017 with the timepoints baseline, month3 and month12 (and only the
    endpoint cohort.n), with ``paired_tests`` as given (``...`` leaves the key out)."""
    text = resources.files("cnotrack.protocols.builtin").joinpath("pardeo2017.yaml").read_text("utf-8")
    definition = yaml.safe_load(text)
    definition["endpoints"] = [e for e in definition["endpoints"] if e["id"] == "cohort.n"]
    definition.pop("summary", None)
    definition["timepoints"] = [
        {"id": "baseline", "label": "baseline", "target_day": 0, "window": [-90, 14]},
        {"id": "month3", "label": "3 months", "target_day": 91, "window": [30, 150]},
        {"id": "month12", "label": "12 months", "target_day": 365, "window": [240, 480]},
    ]
    if paired_tests is not ...:
        definition["paired_tests"] = paired_tests
    dataset = demo_dataset()
    return dataset, evaluate(dataset, parse_protocol(yaml.safe_dump(definition)))


R_MONTH3_VS_MONTH12 = {
    "month3_vs_month12.ESR": (44, 0.0127724945502018, "continuity correction (ties)"),
    "month3_vs_month12.CRP": (40.5, 0.0376450665129401, "continuity correction (ties)"),
    "month3_vs_month12.PGA": (28, 0.0192220257368673, "continuity correction (ties and zeros)"),
    "month3_vs_month12.ESR_elevated": ((3, 0), 0.25, "exact McNemar"),
    "month3_vs_month12.CRP_elevated": ((6, 0), 0.03125, "exact McNemar"),
    "month3_vs_month12.PGA_none_or_minimal": ((0, 7), 0.015625, "exact McNemar"),
}


def test_a_declared_pair_month3_and_month12_gets_paired_tests_equal_to_rs():
    """The values at 3 and 12 months are chosen by the engine with the protocol's windows (the
    protocol's endpoints use none of them); R 4.2.2 on those values, ``Rscript m3.R``::

        esr3 <- c(18, 16, 35, 36, 20, 10, 23, 48, 20); esr12 <- c(9, 9, 14, 17, 14, 6, 19, 49, 12)
        crp3 <- c(6, 7, 24, 29, 12, 4, 14, 30, 9); crp12 <- c(1, 2, 3, 5, 4, 1, 6, 36, 3)
        lv <- c("none", "minimal", "mild", "moderate", "severe")
        pga3 <- match(c("mild", "mild", "moderate", "mild", "mild", "mild", "mild", "moderate", "mild"), lv) - 1
        pga12 <- match(c("none", "none", "minimal", "minimal", "minimal", "none", "mild", "moderate", "minimal"), lv) - 1
        for (v in list(list("ESR", esr3, esr12), list("CRP", crp3, crp12), list("PGA", pga3, pga12))) {
          r <- suppressWarnings(wilcox.test(v[[2]], v[[3]], paired = TRUE))
          cat(sprintf("%s: V = %.15g, p = %.15g, %s\\n", v[[1]], r$statistic, r$p.value, r$method))
        }
        mc <- function(name, a, b) cat(sprintf("%s: b = %d, c = %d, p = %.15g\\n", name, sum(a & !b), sum(!a & b),
                                                binom.test(sum(a & !b), sum(a & !b) + sum(!a & b))$p.value))
        mc("ESR elevated", esr3 > 20, esr12 > 20); mc("CRP elevated", crp3 > 5, crp12 > 5)
        mc("PGA none/minimal", pga3 <= 1, pga12 <= 1)

    Output::

        ESR: V = 44, p = 0.0127724945502018, Wilcoxon signed rank test with continuity correction
        CRP: V = 40.5, p = 0.0376450665129401, Wilcoxon signed rank test with continuity correction
        PGA: V = 28, p = 0.0192220257368673, Wilcoxon signed rank test with continuity correction
        ESR elevated: b = 3, c = 0, p = 0.25
        CRP elevated: b = 6, c = 0, p = 0.03125
        PGA none/minimal: b = 0, c = 7, p = 0.015625

    The demo has no bone scintigraphy at 3 months, so the lesion count has no pair.
    """
    dataset, evaluation = _demo_with_timepoints([["month3", "month12"]])
    result = statistics_for(evaluation, dataset)
    assert sorted(result.paired) == sorted([*R_MONTH3_VS_MONTH12, "month3_vs_month12.lesions"])
    for key, (statistic, p, how) in R_MONTH3_VS_MONTH12.items():
        test = result.paired[key]
        assert (test.pairs, test.dropped_missing) == (9, 0)
        assert (test.b, test.c) == statistic if isinstance(statistic, tuple) else test.statistic == statistic
        assert test.p_value == pytest.approx(p, rel=1e-6)
        assert how in test.method
    lesions = result.paired["month3_vs_month12.lesions"]
    assert (lesions.pairs, lesions.p_value) == (0, None)
    assert result.paired["month3_vs_month12.ESR"].sentence() == (
        "ESR fell from a median of 20 mm/h at 3 months to 14 mm/h at 12 months "
        "(Wilcoxon signed-rank, 9 pairs, V = 44, p = 0.013)")
    # the values were chosen inside each timepoint's window (days from the index date)
    from cnotrack.analysis._values import analysis_table

    table = analysis_table(evaluation, dataset, ["month3", "month12"]).join(
        evaluation.cohort.eligible.select("patient_id", "index_date"), on="patient_id")
    for tp, (low, high) in (("month3", (30, 150)), ("month12", (240, 480))):
        days = [(d - i).days for d, i in zip(table[f"pga@{tp}.date"], table["index_date"])]
        assert all(low <= day <= high for day in days), (tp, days)


def test_without_a_pair_of_timepoints_the_notes_say_why_there_are_no_paired_tests():
    dataset, evaluation = _demo_with_timepoints(...)
    result = statistics_for(evaluation, dataset)
    assert result.paired == {}
    assert result.notes == ["No paired tests: the protocol declares no pairs of timepoints (paired_tests) and "
                            "has no baseline and month6 timepoints."]
    dataset, evaluation = _demo_with_timepoints([])
    assert statistics_for(evaluation, dataset).notes == ["No paired tests: the protocol's paired_tests is empty."]


def test_two_declared_pairs_give_both_sets_of_keys_and_baseline_vs_month6_stays_as_it_was(demo):
    dataset, full = demo
    text = resources.files("cnotrack.protocols.builtin").joinpath("pardeo2017.yaml").read_text("utf-8")
    definition = yaml.safe_load(text)
    definition["paired_tests"] = [["baseline", "month6"], ["month6", "last_followup"]]
    both = statistics_for(evaluate(dataset, parse_protocol(yaml.safe_dump(definition))), dataset)
    default = statistics_for(full, dataset)
    assert {k for k in both.paired if k.startswith("baseline_vs_month6.")} == set(R_DEMO_PAIRED)
    assert {k: both.paired[k].as_json() for k in R_DEMO_PAIRED} == {k: default.paired[k].as_json() for k in R_DEMO_PAIRED}
    assert "month6_vs_last_followup.PGA" in both.paired
