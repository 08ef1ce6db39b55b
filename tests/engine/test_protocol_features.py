"""The criteria and measures a user's protocol may use beyond pardeo2017, on a tiny dataset
whose every number is worked by hand in the test's docstring."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import cnotrack
from cnotrack.engine import evaluate
from cnotrack.protocols import parse_protocol
from conftest import write_tables


@pytest.fixture
def small_cohort(tmp_path: Path) -> cnotrack.Dataset:
    """Three patients on anakinra from 2020-01-01 (ongoing; no eligibility rules)."""
    return cnotrack.load_dataset(write_tables(
        tmp_path / "small",
        patients="patient_id,sex\nP1,F\nP2,M\nP3,F",
        treatments="patient_id,drug,start_date,stop_date\nP1,anakinra,2020-01-01,\nP2,anakinra,2020-01-01,\n"
                   "P3,anakinra,2020-01-01,",
        assessments="patient_id,date,pga,pga_vas,bone_pain,chaq_di\n"
                    "P1,2020-01-01,mild,3,yes,0.5\nP1,2020-07-01,none,0,no,\n"
                    "P2,2020-01-01,severe,,no,1\nP2,2021-01-01,,,,",
        labs="patient_id,date,test,value,unit\nP1,2020-07-01,ESR,40,mm/h\nP2,2021-01-01,ESR,10,mm/h\n"
             "P3,2020-06-01,ESR,30,mm/h",
        imaging="patient_id,study_id,date,modality\nP1,S1,2020-01-01,mri\nP2,S2,2020-01-02,mri",
        lesions="study_id,bone,side,segment\nS1,femur,left,\nS1,sacrum,,",
    ))


FEATURES = """
id: features
title: every kind of criterion and measure
index_treatment: {drug: anakinra}
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-30, 30]}
  - {id: last, label: last visit, anchor: last_assessment}
  - {id: around_last, label: around the last visit, anchor: last_assessment, window: [-200, 0]}
imaging_modality: mri
reference_limits:
  ESR: {upper: 20, unit: mm/h}
endpoints:
  - {id: n, kind: count, label: n, patients: all}
  - {id: bone_pain, kind: proportion, label: b, criterion: {assessment: {field: bone_pain, at: baseline, value: true}}}
  - {id: no_bone_pain, kind: proportion, label: b, criterion: {not: {assessment: {field: bone_pain, at: baseline, value: true}}}}
  - {id: male_or_inactive, kind: proportion, label: m, criterion: {any: [{sex: {in: [M]}}, {pga: {at: last, in: [none]}}]}}
  - {id: males_without_pain, kind: count, label: m, patients: {all: [{sex: {in: [M]}}, {assessment: {field: bone_pain, at: baseline, value: false}}]}}
  - {id: esr_near_last, kind: distribution, label: e, measure: {lab_value: {test: ESR, at: around_last}}}
  - {id: esr_elevated_near_last, kind: proportion, label: e, criterion: {lab_elevated: {test: ESR, at: around_last}}}
  - {id: chaq, kind: distribution, label: c, measure: {assessment_value: {field: chaq_di, at: baseline}}}
  - {id: lesions, kind: distribution, label: l, measure: {lesion_count: {at: baseline}}}
  - {id: follow_up, kind: distribution, label: f, measure: {follow_up_years: {to: last}}}
"""


def test_every_kind_of_criterion_and_measure_gives_the_hand_worked_values(small_cohort) -> None:
    """By hand. Baseline window day -30..30, target 0.

    - bone_pain: P1 yes, P2 no, P3 no assessment -> 1 of 3, 1 missing; ``not`` of it: P2 -> 1 of 3, 1 missing.
    - male_or_inactive = sex M or PGA none at the last visit: P1 (last PGA none, 2020-07-01) yes; P2 male, but
      its latest visit (2021-01-01) has no PGA, so its last PGA is missing (issue 10 settled choice: window
      [0, 0]) and ``any`` is missing; P3 no visit -> missing: 1 of 3, 2 missing.
    - males_without_pain: P2 -> 1.
    - ESR within 200 days before the last visit: P1 40 (2020-07-01), P2 10 (2021-01-01); P3 has no visit,
      so no last visit -> median 25, q1 17.5, q3 32.5; ESR elevated (> 20): P1 only -> 1 of 3, 1 missing.
    - CHAQ at baseline 0.5 and 1 -> median 0.75. Active lesions on the baseline MRI: 2 (P1), 0 (P2) -> median 1.
    - follow-up: P1 182 days, P2 366 days, / 365.25.
    """
    result = evaluate(small_cohort, parse_protocol(FEATURES)).as_json(detail=False)["endpoints"]
    prop = lambda key: {k: result[key][k] for k in ("n", "of", "missing")}  # noqa: E731
    assert result["n"] == 3
    assert prop("bone_pain") == {"n": 1, "of": 3, "missing": 1}
    assert prop("no_bone_pain") == {"n": 1, "of": 3, "missing": 1}
    assert prop("male_or_inactive") == {"n": 1, "of": 3, "missing": 2}
    assert result["males_without_pain"] == 1
    esr = result["esr_near_last"]
    assert (esr["n"], esr["median"], esr["q1"], esr["q3"], esr["min"], esr["max"]) == (2, 25.0, 17.5, 32.5, 10.0, 40.0)
    assert prop("esr_elevated_near_last") == {"n": 1, "of": 3, "missing": 1}
    assert (result["chaq"]["n"], result["chaq"]["median"]) == (2, 0.75)
    assert (result["lesions"]["n"], result["lesions"]["median"], result["lesions"]["max"]) == (2, 1.0, 2.0)
    assert result["follow_up"]["min"] == pytest.approx(182 / 365.25, abs=1e-12)
    assert result["follow_up"]["max"] == pytest.approx(366 / 365.25, abs=1e-12)


def test_bug_a_protocol_limit_given_in_mg_dl_judges_a_value_equal_to_it_as_normal(tmp_path: Path) -> None:
    """BUG (engine/labs.py, protocol_limits): the protocol's default limit is converted without
    the 9-decimal rounding applied to values and to ref_high, so ``CRP: {upper: 0.57, unit:
    mg/dL}`` becomes 5.699999999999999 mg/L and a CRP of exactly 5.7 mg/L counts as elevated.

    Minimal case: pardeo2017 with that CRP limit; one patient, baseline ESR 40 mm/h, CRP 5.7 mg/L
    -> baseline.esr_and_crp_elevated should be 0 of 1 (CRP equals its limit: normal).
    """
    yaml_text = resources.files("cnotrack.protocols").joinpath("builtin/pardeo2017.yaml").read_text("utf-8")
    protocol = parse_protocol(yaml_text.replace("CRP: {upper: 5, unit: mg/L}", "CRP: {upper: 0.57, unit: mg/dL}"))
    dataset = cnotrack.load_dataset(write_tables(
        tmp_path / "d",
        patients="patient_id,sex\nP1,F",
        treatments="patient_id,drug,start_date,stop_date\nP1,naproxen,2019-01-01,\n"
                   "P1,pamidronate,2019-06-01,2019-06-02\nP1,anakinra,2020-01-01,2020-12-01",
        labs="patient_id,date,test,value,unit\nP1,2020-01-01,ESR,40,mm/h\nP1,2020-01-01,CRP,5.7,mg/L",
    ))
    result = evaluate(dataset, protocol).endpoints["baseline.esr_and_crp_elevated"]
    assert (result.n, result.of, result.missing) == (0, 1, 0)


def test_bug_follow_up_years_to_a_windowed_timepoint_is_refused_or_evaluated_never_a_polars_crash(
        small_cohort) -> None:
    """BUG (engine/endpoints.py, _distribution; engine/needs.py): ``follow_up_years`` to a
    timepoint anchored on the index reads the column ``study@<timepoint>.date``, which exists only
    when a lesion endpoint made the engine choose imaging studies at that timepoint; otherwise
    Polars raises ColumnNotFoundError. (When the column exists, the years silently run to the
    imaging study's date.) The protocol should be refused with a ProtocolError, or evaluated.
    """
    text = """
id: follow_up_to_month6
title: t
index_treatment: {drug: anakinra}
timepoints:
  - {id: month6, label: 6 months, target_day: 182, window: [120, 240]}
endpoints:
  - {id: years, kind: distribution, label: y, measure: {follow_up_years: {to: month6}}}
"""
    try:
        protocol = parse_protocol(text)
    except cnotrack.ProtocolError:
        return
    result = evaluate(small_cohort, protocol).endpoints["years"]
    assert result.n + result.missing == 3
