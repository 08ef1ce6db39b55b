"""Course measures in a protocol (criterion and distribution, at a timepoint or on the earliest
study), the loader's checks, and the built-in ``courses`` protocol on the demo and synthetic data.

The cohort of the registry (``conftest.py``), index = the first CNO treatment: P1 2020-01-10
(naproxen), P2 2021-01-01 (ibuprofen), P3 2019-06-01 (naproxen); P4 has no course and is not
eligible. Baseline (day -90..30): P1 S1 (day -5), P2 S3 (day 9), P3 S4 (day 9). Month 6 (day
120..240): P1 S2 of 2020-07-05 (day 177, one clavicle lesion); P2 and P3 have none.
"""

from __future__ import annotations

import pytest

from cnotrack.demo import demo_dataset
from cnotrack.engine import evaluate
from cnotrack.errors import ProtocolError
from cnotrack.protocols import load_protocol, parse_protocol
from cnotrack.synth import synthesize_registry

HEAD = """
id: course_test
title: course measures
index_treatment: {classes: [nsaid, bisphosphonate, glucocorticoid, conventional_dmard, biologic, jak_inhibitor]}
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-90, 30]}
  - {id: month6, label: 6 months, target_day: 182, window: [120, 240]}
flare_definitions:
  quick: {label: NSAID after 10 days, restart: {classes: [nsaid], systemic_only: true}, gap_days: 10}
endpoints:
"""

ENDPOINTS = """
  - {id: multifocal, kind: proportion, label: m, criterion: {course: {measure: multifocal, at: baseline}}}
  - {id: regions, kind: distribution, label: r, measure: {course: {measure: regions_affected, at: baseline}}}
  - {id: regions_first, kind: distribution, label: r, measure: {course: {measure: regions_affected}}}
  - {id: unifocal6, kind: proportion, label: u, criterion: {course: {measure: unifocal, at: month6}}}
  - {id: two_nsaids, kind: proportion, label: t, criterion: {course: {measure: nsaids_tried, op: ">=", value: 2}}}
  - {id: nsaid_days, kind: distribution, label: d, measure: {course: {measure: days_on_nsaid}}, unit: days}
  - {id: pga_none_last, kind: proportion, label: p, criterion: {course: {measure: pga_at_last, value: none}}}
  - {id: quick_flares, kind: count, label: q, patients: {course: {measure: flares.quick, op: ">=", value: 1}}}
  - {id: lower_limb, kind: count, label: l, patients: {course: {measure: regions_list, at: baseline, value: Lower limb}}}
"""


def test_course_criteria_and_measures_give_the_hand_worked_values(registry):
    """By hand (see the module docstring and test_course_measures):
    multifocal at baseline: P1 yes, P2 no (no lesions), P3 yes -> 2 of 3. Regions at baseline
    2, 0, 1 -> median 1, q1 0.5, q3 1.5 (the earliest studies are the same ones here). Unifocal at
    month 6: P1 yes; P2, P3 no study -> 1 of 3, 2 missing. Two or more NSAIDs: P1 -> 1 of 3.
    NSAID days 202, 31, 92 -> median 92, q1 (31 + 92) / 2 = 61.5. PGA none at the last visit: P2 yes, P3 no, P1's last visit
    has none -> 1 of 3, 1 missing. Flares with a 10-day gap: P1 and P3 -> 2. Regions "Lower limb"
    only: P3 -> 1."""
    result = evaluate(registry, parse_protocol(HEAD + ENDPOINTS), statistics=False).as_json(detail=True)
    e = result["endpoints"]
    assert (e["multifocal"]["n"], e["multifocal"]["of"], e["multifocal"]["missing"]) == (2, 3, 0)
    assert (e["regions"]["median"], e["regions"]["q1"], e["regions"]["q3"], e["regions"]["n"]) == (1.0, 0.5, 1.5, 3)
    assert e["regions_first"]["median"] == 1.0
    assert (e["unifocal6"]["n"], e["unifocal6"]["missing"]) == (1, 2)
    assert (e["two_nsaids"]["n"], e["two_nsaids"]["missing"]) == (1, 0)
    assert (e["nsaid_days"]["median"], e["nsaid_days"]["min"], e["nsaid_days"]["max"], e["nsaid_days"]["q1"]) == (92.0, 31.0, 202.0, 61.5)
    assert (e["pga_none_last"]["n"], e["pga_none_last"]["missing"]) == (1, 1)
    assert e["quick_flares"] == 2
    assert e["lower_limb"] == 1
    row = {p["patient_id"]: p for p in result["patients"]}["P1"]
    assert row["course.multifocal@baseline"] is True and row["course.unifocal@month6"] is True
    assert row["course.regions_list@baseline"] == "Lower limb, Pelvis"
    assert "multifocal (two or more active lesions on the study) on the baseline study" in result["methods"]["multifocal"]


@pytest.mark.parametrize(("endpoint", "message"), [
    ("{id: x, kind: proportion, label: x, criterion: {course: {measure: multifocl}}}",
     r"'multifocl' is unknown; did you mean multifocal"),
    ("{id: x, kind: distribution, label: x, measure: {course: {measure: symmetric}}}",
     r"'symmetric' is a boolean measure and a distribution takes numbers; use it as a criterion in a proportion"),
    ("{id: x, kind: proportion, label: x, criterion: {course: {measure: nsaids_tried, at: baseline, op: '>', value: 1}}}",
     r"'nsaids_tried' is not read on a study and takes no at"),
    ("{id: x, kind: proportion, label: x, criterion: {course: {measure: multifocal, at: month12}}}",
     r"timepoint 'month12' is not defined"),
    ("{id: x, kind: proportion, label: x, criterion: {course: {measure: flares.slow}}}",
     r"'flares.slow' is unknown; did you mean flares.quick"),
])
def test_the_loader_refuses_a_wrong_course_measure_with_the_fix(endpoint: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_protocol(HEAD + "  - " + endpoint + "\n")


@pytest.fixture(scope="module")
def courses_protocol():
    return load_protocol("courses")


def _numbers(result) -> dict:
    return result.as_json(detail=False)["endpoints"]


def test_the_courses_protocol_evaluates_on_the_demo(courses_protocol):
    """Demo: 9 patients, each with a first bone scintigraphy of two or more lesions (multifocal
    9/9), NSAID -> pamidronate -> anakinra (3 classes, second line reached by all 9)."""
    e = _numbers(evaluate(demo_dataset(), courses_protocol))
    assert e["cohort.n"] == 9
    assert (e["sites.multifocal"]["n"], e["sites.multifocal"]["of"]) == (9, 9)
    assert e["treatment.classes"]["median"] == 3.0
    assert (e["treatment.second_line"]["n"], e["treatment.second_line"]["of"]) == (9, 9)
    assert e["second_line.time"]["events"] == 9


def test_the_courses_protocol_evaluates_on_a_synthetic_registry(courses_protocol):
    """synthesize_registry(300, 7): every endpoint computes; proportions stay within their
    denominators and NSAID monotherapy never exceeds the NSAID days."""
    dataset = synthesize_registry(300, 7)
    evaluation = evaluate(dataset, courses_protocol)
    e = _numbers(evaluation)
    assert e["cohort.n"] > 250
    for key, value in e.items():
        if isinstance(value, dict) and "of" in value and value.get("kind", "proportion") == "proportion":
            assert 0 <= value["n"] <= value["of"] - value["missing"], key
    assert e["sites.multifocal.n"] == e["sites.multifocal"]["n"]
    table = evaluation.patients
    assert (table["course.nsaid_monotherapy_days"] <= table["course.days_on_nsaid"]).all()
    assert (table["course.unifocal"].cast(int) + table["course.multifocal"].cast(int) <= 1).all()


def test_the_courses_protocol_gives_the_hand_worked_table_on_the_registry(registry, courses_protocol):
    """By hand, over P1, P2, P3 (first studies S1, S3, S4; see test_course_measures):
    multifocal 2/3, unifocal 0/3, symmetric 1/3 (P1's femur both sides); regions 2, 0, 1 and bones
    4, 0, 1 -> median 1 each; classes 2, 2, 1 -> 2; lines 2, 3, 1 -> 2; NSAIDs tried 2, 1, 1 -> 1, two
    or more 1/3; monotherapy 173, 14, 92 -> 92 (q1 (14 + 92) / 2 = 53); NSAID days 202, 31, 92 -> 92;
    second line ever: P1 (pamidronate), P2 (adalimumab) -> 2/3. PGA at 6 months (day 120..240):
    P1 mild (2020-07-10), P2 none (2021-07-15), P3 minimal (2019-12-01) -> 2/3; at 12 months only
    P1's visit of 2020-12-01 (day 326) lies in the window and it has no PGA -> 3 missing. Flares
    (nsaid_restart) 1, 0, 0 -> any 1/3. On treatment at the last visit P1, P2 -> 2/3; PGA none or
    minimal at the last visit P2, P3, P1 missing -> 2, 1 missing. Time to second line from
    diagnosis: P1 event at 91 days, P3 censored at 183, P2 left out (no diagnosis date)."""
    e = _numbers(evaluate(registry, courses_protocol))
    prop = lambda key: (e[key]["n"], e[key]["of"], e[key]["missing"])  # noqa: E731
    median = lambda key: e[key]["median"]  # noqa: E731
    assert e["cohort.n"] == 3 and e["sites.multifocal.n"] == 2
    assert prop("sites.multifocal") == (2, 3, 0) and prop("sites.unifocal") == (0, 3, 0)
    assert prop("sites.symmetric") == (1, 3, 0) and prop("sites.multifocal_baseline") == (2, 3, 0)
    assert (median("sites.regions"), median("sites.bones"), e["sites.bones"]["max"]) == (1.0, 1.0, 4.0)
    assert (median("treatment.classes"), median("treatment.lines"), median("treatment.nsaids_tried")) == (2.0, 2.0, 1.0)
    assert prop("treatment.two_or_more_nsaids") == (1, 3, 0)
    assert (median("treatment.nsaid_monotherapy_days"), e["treatment.nsaid_monotherapy_days"]["q1"]) == (92.0, 53.0)
    assert (median("treatment.days_on_nsaid"), e["treatment.days_on_biologic"]["max"],
            e["treatment.days_on_bisphosphonate"]["max"]) == (92.0, 181.0, 90.0)
    assert prop("treatment.second_line") == (2, 3, 0)
    assert prop("month6.pga_none_minimal") == (2, 3, 0) and prop("month12.pga_none_minimal") == (0, 3, 3)
    assert prop("flares.any") == (1, 3, 0) and e["flares.n"]["max"] == 1.0
    assert prop("last.on_treatment") == (2, 3, 0) and prop("last.pga_none_minimal") == (2, 3, 1)
    tte = e["second_line.time"]
    assert (tte["n"], tte["events"], tte["censored"], tte["excluded"]) == (2, 1, 1, 1)
    assert tte["curve"][1]["time_years"] == pytest.approx(91 / 365.25)
    assert tte["excluded_patients"] == [{"patient_id": "P2", "reason": "no diagnosis date"}]
