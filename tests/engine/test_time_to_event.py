"""Time-to-event endpoints (``kind: time_to_event``) on a four-patient fixture worked by hand.

Every patient starts anakinra on 2020-01-01 (day 0). Days are counted from the start; events
count only after day 0; without an event a patient is censored at the last assessment (a new
lesion: at the last study after the baseline study).

==== ===== ============ ========================================= ============================
id   sex   diagnosis    treatments                                assessments (day: PGA)
==== ===== ============ ========================================= ============================
P1   F     2019-07-01   anakinra to 2020-07-01 (day 182,           0 severe, 100 minimal,
                        inefficacy); etanercept from 2020-08-01    366 none
                        (day 213); naproxen 2019-08-01..09-01 and
                        2020-03-01..04-01 (a flare on day 60)
P2   M     (none)       anakinra ongoing                           0 none, 180 mild
P3   F     2019-01-01   anakinra to 2020-03-01 (day 60,            0 moderate
                        adverse event)
P4   M     2019-10-01   anakinra ongoing; ibuprofen from           0 mild, 60 minimal
                        2019-11-01, ongoing
==== ===== ============ ========================================= ============================

MRI: P1 baseline S1a (day 0: femur L, tibia R), S1b day 152 (femur L), S1c day 335 (femur L,
T5: new, spine); P2 baseline S2a (day 4: tibia L), S2b day 182 (tibia L, clavicle R marked
symptomatic: new); P3 only a study on day 152 (no baseline study); P4 only its baseline study.

By hand:

- PGA none or minimal: P1 event 100, P2 censored 180 (the day-0 "none" does not count), P3 left
  out (no assessment after the index date), P4 event 60. Kaplan-Meier: S = 2/3 after day 60,
  1/3 after day 100; median 100 days.
- Stop for inefficacy: P1 event 182; P2 censored 180; P3 stopped for an adverse event: censored
  60; P4 censored 60.
- A TNF inhibitor started, from the diagnosis: P1 event 397 (2019-07-01 to 2020-08-01); P2 left
  out (no diagnosis date); P3 censored 365 (to its last assessment 2020-01-01); P4 censored 152.
- A new lesion: P1 event 335; P2 event 182 (counted from the index date, not from its baseline
  study on day 4); P3 left out (no baseline MRI study); P4 left out (no MRI study after the
  baseline study and the index date). A new spine lesion: P1 event 335, P2 censored 182. A new
  symptomatic lesion: P1 censored 335 (T5 has an empty symptomatic: not symptomatic), P2 event
  182.
- NSAID flares (a new NSAID course more than 30 days after the previous one ended): P1's
  2020-03-01 course (day 60); P2 censored 180; P3 left out; P4 censored 60.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cnotrack
from cnotrack.engine import evaluate
from cnotrack.errors import ProtocolError
from cnotrack.protocols import parse_protocol
from cnotrack.results import TimeToEventResult
from conftest import write_tables

YEAR = 365.25


@pytest.fixture
def dataset(tmp_path: Path) -> cnotrack.Dataset:
    return cnotrack.load_dataset(write_tables(
        tmp_path / "tte",
        patients="patient_id,sex,onset_date,diagnosis_date\nP1,F,2019-05-01,2019-07-01\nP2,M,,\n"
                 "P3,F,2018-12-01,2019-01-01\nP4,M,2019-09-01,2019-10-01",
        treatments="patient_id,drug,start_date,stop_date,stop_reason\n"
                   "P1,anakinra,2020-01-01,2020-07-01,inefficacy\nP1,etanercept,2020-08-01,,\n"
                   "P1,naproxen,2019-08-01,2019-09-01,\nP1,naproxen,2020-03-01,2020-04-01,\n"
                   "P2,anakinra,2020-01-01,,\nP3,anakinra,2020-01-01,2020-03-01,adverse_event\n"
                   "P4,anakinra,2020-01-01,,\nP4,ibuprofen,2019-11-01,,",
        assessments="patient_id,date,pga\nP1,2020-01-01,severe\nP1,2020-04-10,minimal\nP1,2021-01-01,none\n"
                    "P2,2020-01-01,none\nP2,2020-06-29,mild\nP3,2020-01-01,moderate\n"
                    "P4,2020-01-01,mild\nP4,2020-03-01,minimal",
        imaging="patient_id,study_id,date,modality\nP1,S1a,2020-01-01,mri\nP1,S1b,2020-06-01,mri\n"
                "P1,S1c,2020-12-01,mri\nP2,S2a,2020-01-05,mri\nP2,S2b,2020-07-01,mri\n"
                "P3,S3,2020-06-01,mri\nP4,S4a,2020-01-01,mri",
        lesions="study_id,bone,side,symptomatic\nS1a,femur,left,\nS1a,tibia,right,\nS1b,femur,left,\n"
                "S1c,femur,left,\nS1c,T5,,\nS2a,tibia,left,\nS2b,tibia,left,\nS2b,clavicle,right,yes\n"
                "S4a,femur,right,",
    ))


PROTOCOL = """
id: tte_fixture
title: time-to-event fixture
index_treatment: {drug: anakinra}
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-30, 30]}
imaging_modality: mri
flare_definitions:
  nsaid_gap: {label: NSAID restarted after a gap, restart: {classes: [nsaid]}, gap_days: 30}
endpoints:
  - {id: pga, kind: time_to_event, label: Time to PGA none or minimal, event: {pga_reached: {in: [none, minimal]}}}
  - {id: stop, kind: time_to_event, label: Time to stop for inefficacy, event: {treatment_stopped: {reasons: [inefficacy]}}}
  - {id: stop_any, kind: time_to_event, label: Time to any stop, event: {treatment_stopped: {}}}
  - {id: tnf, kind: time_to_event, label: Time to a TNF inhibitor, start: diagnosis, event: {treatment_started: {targets: [TNF]}}}
  - {id: new, kind: time_to_event, label: Time to a new lesion, event: {new_lesion: {}}}
  - {id: new_spine, kind: time_to_event, label: Time to a new spinal lesion, event: {new_lesion: {regions: [spine]}}}
  - {id: new_symptomatic, kind: time_to_event, label: Time to a new symptomatic lesion, event: {new_lesion: {symptomatic: true}}}
  - {id: flare, kind: time_to_event, label: Time to an NSAID flare, times_years: [0.1, 0.5], event: {flare: {definition: nsaid_gap}}}
"""


@pytest.fixture
def evaluation(dataset):
    return evaluate(dataset, parse_protocol(PROTOCOL), statistics=False)


def column(evaluation, eid: str) -> dict[str, tuple]:
    p = evaluation.patients
    return {r["patient_id"]: (r[f"tte.{eid}.days"], r[f"tte.{eid}.event"], r[f"tte.{eid}.excluded"])
            for r in p.select("patient_id", f"tte.{eid}.days", f"tte.{eid}.event", f"tte.{eid}.excluded").to_dicts()}


def test_pga_reached_counts_only_after_day_0_and_censors_at_the_last_assessment(evaluation):
    assert column(evaluation, "pga") == {
        "P1": (100, True, None), "P2": (180, False, None),
        "P3": (None, None, "no assessment after the index date"), "P4": (60, True, None)}
    r = evaluation.endpoints["pga"]
    assert isinstance(r, TimeToEventResult) and r.kind == "time_to_event"
    assert (r.n, r.events, r.censored, r.excluded) == (3, 2, 1, 1)
    assert r.median_years == pytest.approx(100 / YEAR, abs=1e-12)
    assert r.excluded_patients == [{"patient_id": "P3", "reason": "no assessment after the index date"}]
    assert r.subjects == [{"patient_id": "P1", "days": 100, "event": True},
                          {"patient_id": "P2", "days": 180, "event": False},
                          {"patient_id": "P4", "days": 60, "event": True}]
    # at 0.5 years (182.6 days) nobody is at risk any more: R's summary() leaves the time out
    assert r.at_risk == []
    assert [round(p["survival"], 12) for p in r.curve if p["events"]] == [round(2 / 3, 12), round(1 / 3, 12)]


def test_treatment_stopped_for_a_reason_censors_a_stop_for_another_reason(evaluation):
    assert column(evaluation, "stop") == {
        "P1": (182, True, None), "P2": (180, False, None), "P3": (60, False, None), "P4": (60, False, None)}
    assert column(evaluation, "stop_any")["P3"] == (60, True, None)
    r = evaluation.endpoints["stop"]
    assert (r.n, r.events, r.censored) == (4, 1, 3)
    # one event among the 2 at risk on day 182 (P1, and nobody else past 180): S = 0 after it
    assert r.median_years == pytest.approx(182 / YEAR, abs=1e-12)


def test_treatment_started_from_the_diagnosis_leaves_out_a_patient_without_one(evaluation):
    assert column(evaluation, "tnf") == {
        "P1": (397, True, None), "P2": (None, None, "no diagnosis date"),
        "P3": (365, False, None), "P4": (152, False, None)}


def test_new_lesion_is_matched_against_the_baseline_study(evaluation):
    assert column(evaluation, "new") == {
        "P1": (335, True, None), "P2": (182, True, None),
        "P3": (None, None, "no baseline mri study"),
        "P4": (None, None, "no mri study after the baseline study and the index date")}
    assert column(evaluation, "new_spine") == {
        "P1": (335, True, None), "P2": (182, False, None),
        "P3": (None, None, "no baseline mri study"),
        "P4": (None, None, "no mri study after the baseline study and the index date")}
    # T5 has an empty symptomatic: it counts as not symptomatic
    assert {k: v for k, v in column(evaluation, "new_symptomatic").items() if k in ("P1", "P2")} == {
        "P1": (335, False, None), "P2": (182, True, None)}


def test_flare_is_the_first_flare_after_the_start(evaluation):
    assert column(evaluation, "flare") == {
        "P1": (60, True, None), "P2": (180, False, None),
        "P3": (None, None, "no assessment after the index date"), "P4": (60, False, None)}
    r = evaluation.endpoints["flare"]
    # 0.1 years = 36.5 days: 3 at risk, none yet; 0.5 years: after everyone's last time
    assert r.at_risk == [{"time_years": 0.1, "n_risk": 3, "events": 0, "censored": 0, "survival": 1.0,
                          "lower": 1.0, "upper": 1.0}]


def test_onset_start_and_treatment_stopped_with_another_start_is_refused(dataset):
    text = PROTOCOL.split("endpoints:")[0] + """endpoints:
  - {id: pga, kind: time_to_event, label: t, start: onset, event: {pga_reached: {in: [none, minimal]}}}
"""
    ev = evaluate(dataset, parse_protocol(text), statistics=False)
    # P1 onset 2019-05-01 -> 2020-04-10 is 345 days; P2 has no onset date
    assert column(ev, "pga")["P1"] == (345, True, None)
    assert column(ev, "pga")["P2"] == (None, None, "no onset date")
    bad = text.replace("start: onset, event: {pga_reached: {in: [none, minimal]}}",
                       "start: diagnosis, event: {treatment_stopped: {}}")
    with pytest.raises(ProtocolError, match="start must be index"):
        evaluate(dataset, parse_protocol(bad), statistics=False)


def test_an_unknown_flare_definition_names_the_known_ones(dataset):
    text = PROTOCOL.replace("definition: nsaid_gap", "definition: nsaid_gapp")
    with pytest.raises(cnotrack.CnotrackError, match="no flare definition 'nsaid_gapp' .*nsaid_gap"):
        evaluate(dataset, parse_protocol(text), statistics=False)


def test_result_words_and_json(evaluation):
    r = evaluation.endpoints["pga"]
    assert r.short() == "median 0.3 years (95% CI 0.2 to not reached); 2 events in 3 patients"
    assert r.sentence() == ("Time to PGA none or minimal: median 0.3 years (95% CI 0.2 to not reached); 2 events "
                            "in 3 patients (Kaplan-Meier); 1 patient was left out.")
    js = r.as_json()
    assert set(js) == {"n", "events", "censored", "excluded", "median_years", "median_ci95", "at_risk", "curve",
                       "excluded_patients"}
    assert evaluation.as_json(detail=False)["endpoints"]["pga"]["n"] == 3
    assert "comparisons" not in evaluation.as_json(detail=False)
    assert r.method.startswith("Days from the index date to the first assessment after it with PGA none or minimal")


def test_the_kaplan_meier_of_an_endpoint_equals_r(evaluation):
    """R 4.2.2, survival::survfit on the three patients analysed (P1 100 event, P2 180
    censored, P4 60 event)::

        library(survival)
        fit <- survfit(Surv(c(100, 180, 60) / 365.25, c(1, 0, 1)) ~ 1)
        s <- summary(fit)
        print(format(s$surv, digits = 15)); print(format(s$lower, digits = 15))
        q <- quantile(fit, 0.5)
        print(format(c(q$quantile, q$lower, q$upper), digits = 15))

    printed::

        [1] "0.666666666666667" "0.333333333333333"
        [1] "0.2995071303590223" "0.0672783908519223"
        "0.27378507871321" "0.164271047227926" NA
    """
    r = evaluation.endpoints["pga"]
    events = [p for p in r.curve if p["events"]]
    assert [p["lower"] for p in events] == pytest.approx([0.2995071303590223, 0.0672783908519223], abs=1e-12)
    assert [p["upper"] for p in events] == [1.0, 1.0]
    assert r.median_years == pytest.approx(0.27378507871321, abs=1e-12)
    assert r.median_ci95[0] == pytest.approx(0.164271047227926, abs=1e-12)
    assert r.median_ci95[1] is None


@pytest.mark.parametrize(("rule", "median_days"), [("midpoint", 80), ("first", 60)])
def test_the_protocols_km_median_rule_chooses_the_median_of_a_curve_flat_at_one_half(tmp_path, rule, median_days):
    """Two patients with events on days 60 and 100: S = 1/2 from day 60 to day 100, so R's
    ``print(survfit)`` median is the midpoint, 80 days, and the first time at 1/2 is day 60."""
    data = cnotrack.load_dataset(write_tables(
        tmp_path / "flat",
        patients="patient_id,sex\nQ1,F\nQ2,M",
        treatments="patient_id,drug,start_date\nQ1,anakinra,2020-01-01\nQ2,anakinra,2020-01-01",
        assessments="patient_id,date,pga\nQ1,2020-03-01,none\nQ2,2020-04-10,minimal"))
    text = PROTOCOL.split("endpoints:")[0] + f"""km_median: {rule}
endpoints:
  - {{id: pga, kind: time_to_event, label: t, event: {{pga_reached: {{in: [none, minimal]}}}}}}
"""
    r = evaluate(data, parse_protocol(text), statistics=False).endpoints["pga"]
    assert r.median_years == pytest.approx(median_days / YEAR, abs=1e-12)
    assert f'median rule "{rule}"' in r.method
