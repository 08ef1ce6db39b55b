"""The cohort of protocol language v2: index course by drug list, class, target and line of
therapy; eligibility by require/exclude criteria on the patient and by an exclusion list.

Each dataset is written out by hand below, and each expected number is worked out in a comment
beside the assertion.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import polars as pl
import pytest
import yaml

from cnotrack.engine import evaluate
from cnotrack.engine.cohort import COHORT_COLUMNS, build_cohort
from cnotrack.engine.criteria import criterion_expr
from cnotrack.engine.needs import protocol_needs
from cnotrack.engine.patient_table import build_patient_table
from cnotrack.engine.treatments import (
    COURSE_COLUMNS, drug_facts, line_courses, selected_courses, selection_expr, with_drug_facts,
)
from cnotrack.errors import ProtocolError, VocabularyError
from cnotrack.exchange.dataset import Dataset, empty_table
from cnotrack.protocols.criteria import TreatmentSelection
from cnotrack.protocols.load import parse_protocol
from cnotrack.protocols.model import Protocol
from cnotrack.vocabulary import DrugVocabulary, LineVocabulary, drugs, lines

D = dt.date


def _table(name: str, rows: list[dict]) -> pl.DataFrame:
    schema = empty_table(name).schema
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.select([
        (pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)) for c, t in schema.items()
    ])


def _patients(*ids: str, **facts) -> list[dict]:
    def date(kind, p):
        value = facts.get(kind, {}).get(p)
        return D.fromisoformat(value) if value else None

    return [{"patient_id": p, "sex": facts.get("sex", {}).get(p, "F"), "center": facts.get("center", {}).get(p),
             "birth_date": facts.get("birth", {}).get(p), "onset_date": date("onset", p),
             "diagnosis_date": date("diagnosis", p)} for p in ids]


def _course(pid, drug, start, stop=None, route=None) -> dict:
    return {"patient_id": pid, "drug": drug, "start_date": start, "stop_date": stop, "route": route}


def _dataset(patients: list[dict], treatments: list[dict], **tables: list[dict]) -> Dataset:
    built = {"patients": _table("patients", patients), "treatments": _table("treatments", treatments)}
    built.update({name: _table(name, rows) for name, rows in tables.items()})
    return Dataset(built)


def _protocol(index: str, eligibility: str = "", endpoints: str = ""):
    return parse_protocol(_protocol_text(index, eligibility, endpoints))


def _protocol_text(index: str, eligibility: str = "", endpoints: str = "") -> str:
    return f"""\
id: cohort_v2_test
title: cohort v2 test
index_treatment: {index}
{eligibility}
timepoints:
  - {{id: baseline, label: baseline, target_day: 0, window: [-60, 0]}}
endpoints:
  - {{id: cohort.n, kind: count, label: eligible patients, patients: all}}
{textwrap.indent(endpoints, "  ")}
"""


def _index(cohort) -> dict[str, tuple]:
    return {r["patient_id"]: (r["index_drug"], r["index_date"]) for r in cohort.eligible.iter_rows(named=True)}


def _reasons(cohort) -> dict[str, str]:
    return dict(cohort.excluded.iter_rows())


# ---- the drug vocabulary: targets ------------------------------------------------------------

def test_every_biologic_and_jak_inhibitor_has_a_target_with_a_source():
    vocabulary = drugs()
    assert set(vocabulary.targets) >= {"IL-1", "TNF", "IL-17", "IL-12/23", "JAK"}
    assert all(t.source and t.label for t in vocabulary.targets.values())
    for d in vocabulary.drugs:
        if d.drug_class in ("biologic", "jak_inhibitor"):
            assert d.target in vocabulary.targets, d.name
    assert vocabulary.drug("secukinumab").target == "IL-17"
    assert "IL-17A" in vocabulary.drug("secukinumab").note


def test_a_drug_whose_target_is_not_a_key_of_targets_is_refused():
    with pytest.raises(ValueError, match="target 'IL-99' is not a key of targets"):
        DrugVocabulary.model_validate({
            "source": "x", "classes": {"biologic": "Biologic"}, "targets": {"TNF": {"label": "TNF", "source": "s"}},
            "drugs": [{"name": "etanercept", "class": "biologic", "target": "IL-99"}]})


def test_drug_facts_give_class_and_target_of_each_drug():
    facts = {r["drug"]: (r["drug_class"], r["target"]) for r in drug_facts().iter_rows(named=True)}
    assert facts["etanercept"] == ("biologic", "TNF")
    assert facts["anakinra"] == ("biologic", "IL-1")
    assert facts["naproxen"] == ("nsaid", None)
    assert facts["tofacitinib"] == ("jak_inhibitor", "JAK")


def test_the_lines_of_therapy_are_data_with_a_source():
    vocabulary = lines()
    assert "Zhao" in vocabulary.source and "1228" in vocabulary.source
    assert {"first_line", "second_line", "first_biologic", "second_biologic"} <= set(vocabulary.lines)
    assert vocabulary.line("second_biologic").order == 2
    assert "glucocorticoid" not in vocabulary.line("second_line").selection.classes


# ---- treatments: selections and lines --------------------------------------------------------

COURSES = [
    _course("p1", "diclofenac", D(2019, 6, 1), D(2019, 7, 1), route="topical"),
    _course("p1", "naproxen", D(2020, 1, 1), D(2020, 5, 1)),
    _course("p1", "methotrexate", D(2020, 5, 1), None),
    _course("p1", "etanercept", D(2020, 9, 1), None),
    _course("p2", "prednisone", D(2020, 1, 1), D(2020, 2, 1)),
    _course("p2", "anakinra", D(2020, 3, 1), D(2020, 8, 1)),
    _course("p2", "anakinra", D(2020, 10, 1), D(2020, 11, 1)),
    _course("p2", "adalimumab", D(2021, 1, 1), None),
    _course("p3", "pamidronate", D(2021, 2, 1), D(2021, 2, 3)),
]


def test_a_selection_by_target_takes_tnf_inhibitors_and_not_anakinra():
    chosen = selected_courses(_table("treatments", COURSES), TreatmentSelection(targets=("TNF",)))
    assert chosen.columns == list(COURSE_COLUMNS)
    # p1 etanercept, p2 adalimumab; p2's two anakinra courses are IL-1
    assert chosen.select("patient_id", "drug").rows() == [("p1", "etanercept"), ("p2", "adalimumab")]


def test_systemic_only_drops_topical_courses_and_a_course_without_route_counts():
    frame = with_drug_facts(_table("treatments", COURSES))
    nsaids = frame.filter(selection_expr(TreatmentSelection(classes=("nsaid",), systemic_only=True)))
    assert nsaids["drug"].to_list() == ["naproxen"]  # diclofenac was topical


def test_lines_of_therapy_pick_the_course_that_starts_each_line():
    treatments = _table("treatments", COURSES)
    # first line: p1's topical diclofenac does not count, naproxen 2020-01-01 does; p2, p3 have no NSAID
    assert line_courses(treatments, "first_line").select("patient_id", "drug").rows() == [("p1", "naproxen")]
    # second line: p1 methotrexate (before etanercept); p2 anakinra (prednisone does not count);
    # p3 pamidronate
    assert line_courses(treatments, "second_line").select("patient_id", "drug", "start_date").rows() == [
        ("p1", "methotrexate", D(2020, 5, 1)), ("p2", "anakinra", D(2020, 3, 1)), ("p3", "pamidronate", D(2021, 2, 1))]
    assert line_courses(treatments, "first_biologic").select("patient_id", "drug").rows() == [
        ("p1", "etanercept"), ("p2", "anakinra")]
    # second biologic: p2's second anakinra course is a restart, not a second biologic: adalimumab
    assert line_courses(treatments, "second_biologic").select("patient_id", "drug", "start_date").rows() == [
        ("p2", "adalimumab", D(2021, 1, 1))]


def test_a_selection_with_a_line_and_a_target_keeps_the_line_course_only_when_it_matches():
    chosen = selected_courses(_table("treatments", COURSES), TreatmentSelection(line="first_biologic", targets=("TNF",)))
    assert chosen.select("patient_id", "drug").rows() == [("p1", "etanercept")]  # p2's first biologic is IL-1


def test_an_unknown_line_or_target_is_named():
    with pytest.raises(ProtocolError, match="'third_biologic' is not a line of therapy"):
        line_courses(_table("treatments", COURSES), "third_biologic")
    with pytest.raises(ProtocolError, match="target 'IL-6'"):
        selection_expr(TreatmentSelection(targets=("IL-6",)))
    with pytest.raises(ProtocolError, match=r"index_treatment.targets: 'IL-6' is not a drug target"):
        _protocol("{targets: [IL-6]}")
    with pytest.raises(ProtocolError, match=r"index_treatment.line: 'third_biologic' is not a line"):
        _protocol("{line: third_biologic}")


# ---- the index course -----------------------------------------------------------------------

TNF_COURSES = [
    _course("a", "naproxen", D(2020, 1, 1), D(2020, 5, 1)),
    _course("a", "etanercept", D(2020, 6, 1), None),
    _course("b", "anakinra", D(2020, 2, 1), D(2020, 9, 1)),
    _course("b", "adalimumab", D(2021, 1, 1), None),
    _course("c", "anakinra", D(2020, 2, 1), None),
    # d, e, f: two TNF inhibitors started on one day
    _course("d", "etanercept", D(2020, 3, 1), D(2020, 9, 1)),
    _course("d", "adalimumab", D(2020, 3, 1), None),          # ongoing: the longer
    _course("e", "etanercept", D(2020, 3, 1), D(2020, 9, 1)),
    _course("e", "adalimumab", D(2020, 3, 1), D(2020, 9, 1)),  # as long: by name
    _course("f", "etanercept", D(2020, 3, 1), D(2020, 12, 1)),  # stops later: the longer
    _course("f", "adalimumab", D(2020, 3, 1), D(2020, 9, 1)),
]
TNF_PATIENTS = _patients("a", "b", "c", "d", "e", "f")


def test_index_by_target_tnf_takes_etanercept_or_adalimumab_and_not_anakinra():
    cohort = build_cohort(_dataset(TNF_PATIENTS, TNF_COURSES), _protocol("{targets: [TNF]}"))
    index = _index(cohort)
    assert index["a"] == ("etanercept", D(2020, 6, 1))
    assert index["b"] == ("adalimumab", D(2021, 1, 1))  # not the earlier anakinra
    assert _reasons(cohort) == {"c": "no TNF inhibitor treatment course"}
    row = cohort.eligible.filter(pl.col("patient_id") == "a").row(0, named=True)
    assert (row["index_class"], row["index_target"]) == ("biologic", "TNF")


def test_two_index_courses_on_one_day_the_longer_then_the_drug_name():
    cohort = build_cohort(_dataset(TNF_PATIENTS, TNF_COURSES), _protocol("{targets: [TNF]}"))
    index = _index(cohort)
    assert index["d"][0] == "adalimumab"   # ongoing beats stopped
    assert index["e"][0] == "adalimumab"   # equally long: adalimumab < etanercept
    assert index["f"][0] == "etanercept"   # stops 2020-12-01, later than 2020-09-01
    stops = dict(cohort.eligible.select("patient_id", "index_stop_date").rows())
    assert stops["d"] is None and stops["f"] == D(2020, 12, 1)


def test_index_by_drug_list_and_by_class():
    courses = [_course("a", "pamidronate", D(2020, 1, 1)), _course("a", "zoledronic acid", D(2019, 1, 1)),
               _course("b", "alendronate", D(2020, 1, 1)), _course("c", "naproxen", D(2020, 1, 1))]
    dataset = _dataset(_patients("a", "b", "c"), courses)
    by_list = build_cohort(dataset, _protocol("{drugs: [pamidronate, zoledronic acid]}"))
    assert _index(by_list) == {"a": ("zoledronic acid", D(2019, 1, 1))}  # the earlier of the two
    assert _reasons(by_list) == {"b": "no pamidronate or zoledronic acid course",
                                 "c": "no pamidronate or zoledronic acid course"}
    by_class = build_cohort(dataset, _protocol("{classes: [bisphosphonate]}"))
    assert _index(by_class) == {"a": ("zoledronic acid", D(2019, 1, 1)), "b": ("alendronate", D(2020, 1, 1))}
    assert _reasons(by_class) == {"c": "no bisphosphonate treatment course"}  # the v1 wording


def test_the_eligible_table_keeps_the_v1_columns_first():
    cohort = build_cohort(_dataset(TNF_PATIENTS, TNF_COURSES), _protocol("{drug: etanercept}"))
    assert tuple(cohort.eligible.columns) == COHORT_COLUMNS
    assert COHORT_COLUMNS[:5] == ("patient_id", "sex", "index_date", "index_stop_date", "last_assessment_date")


def test_index_by_line_first_and_second_biologic_and_second_line():
    patients = _patients("p1", "p2", "p3")
    dataset = _dataset(patients, COURSES)
    first = build_cohort(dataset, _protocol("{line: first_biologic}"))
    assert _index(first) == {"p1": ("etanercept", D(2020, 9, 1)), "p2": ("anakinra", D(2020, 3, 1))}
    assert _reasons(first) == {"p3": "no first biologic course"}
    second = build_cohort(dataset, _protocol("{line: second_biologic}"))
    assert _index(second) == {"p2": ("adalimumab", D(2021, 1, 1))}
    assert _reasons(second) == {"p1": "no second biologic course", "p3": "no second biologic course"}
    second_line = build_cohort(dataset, _protocol("{line: second_line}"))
    assert {p: d for p, (d, _) in _index(second_line).items()} == {
        "p1": "methotrexate", "p2": "anakinra", "p3": "pamidronate"}


def test_a_line_whose_course_is_not_of_the_target_excludes_with_the_drug_named():
    cohort = build_cohort(_dataset(_patients("p1", "p2", "p3"), COURSES),
                          _protocol("{line: first_biologic, targets: [TNF]}"))
    assert _index(cohort) == {"p1": ("etanercept", D(2020, 9, 1))}
    assert _reasons(cohort) == {"p2": "first biologic is anakinra, not TNF inhibitor",
                                "p3": "no first biologic course"}


def test_two_biologics_started_on_one_day_rank_the_longer_first_for_the_lines():
    courses = [_course("z", "etanercept", D(2020, 1, 1), D(2020, 6, 1)), _course("z", "anakinra", D(2020, 1, 1), None)]
    treatments = _table("treatments", courses)
    # anakinra is ongoing, so the longer: it is the first biologic, etanercept the second
    assert line_courses(treatments, "first_biologic")["drug"].to_list() == ["anakinra"]
    assert line_courses(treatments, "second_biologic")["drug"].to_list() == ["etanercept"]


def test_a_line_course_that_is_topical_fails_systemic_only_with_a_reason():
    courses = [_course("t", "etanercept", D(2020, 1, 1), route="topical")]
    cohort = build_cohort(_dataset(_patients("t"), courses), _protocol("{line: first_biologic, systemic_only: true}"))
    assert _reasons(cohort) == {"t": "first biologic is etanercept, not a systemic course"}


def test_misspelt_drugs_classes_and_targets_of_treatment_criteria_are_named_when_loading():
    with pytest.raises(ProtocolError, match=r"index_treatment.drugs: 'etanercpt' is not a generic name"):
        _protocol("{drugs: [etanercpt]}")
    with pytest.raises(ProtocolError, match=r"eligibility.require.0.treatment.classes: 'biologics' is not a drug class"):
        _protocol("{drug: etanercept}", "eligibility: {require: [{treatment: {classes: [biologics]}}]}")
    with pytest.raises(ProtocolError, match=r"prior_treatments.0.targets: 'TNF-alpha' is not a drug target"):
        _protocol("{drug: etanercept}", "eligibility: {prior_treatments: [{label: x, targets: [TNF-alpha]}]}")


def test_prior_treatments_by_target():
    eligibility = "eligibility: {prior_treatments: [{label: an IL-1 inhibitor, targets: [IL-1]}]}"
    cohort = build_cohort(_dataset(TNF_PATIENTS, TNF_COURSES), _protocol("{targets: [TNF]}", eligibility))
    # only b had anakinra (2020-02-01) before its TNF inhibitor (2021-01-01)
    assert _index(cohort).keys() == {"b"}
    assert _reasons(cohort)["a"] == "no course of an IL-1 inhibitor before TNF inhibitor treatment"


# ---- eligibility: require, exclude, exclude_patients ----------------------------------------

ELIGIBILITY_PATIENTS = _patients(
    "q1", "q2", "q3", "q4", "q5", "q6",
    sex={"q2": "M"},
    center={"q1": " Genoa ", "q2": "Genoa", "q3": "Genoa", "q4": "Genoa", "q5": "Rome", "q6": "Genoa"},
    birth={"q1": "2010-03-15", "q2": "2010-03-15", "q3": "2010-03", "q4": "2010-03-15", "q5": "2010-03-15"},
    onset={"q1": "2012-03-15", "q2": "2012-03-15", "q3": "2012-03-14", "q4": "2012-03-15", "q5": "2012-03-15",
           "q6": "2012-03-15"},
)
ELIGIBILITY_COURSES = [_course(p, "naproxen", D(2013, 1, 1)) for p in ("q1", "q2", "q3", "q4", "q5", "q6")] + [
    _course(p, "pamidronate", D(2014, 1, 1)) for p in ("q1", "q2", "q3", "q4", "q5", "q6")] + [
    _course("q4", "methotrexate", D(2014, 6, 1))]
DIAGNOSIS = [{"patient_id": p, "multifocal": v} for p, v in
             (("q1", True), ("q2", True), ("q3", True), ("q4", True), ("q5", True), ("q6", None))]


def _eligibility_cohort(eligibility: str, diagnosis=DIAGNOSIS):
    dataset = _dataset(ELIGIBILITY_PATIENTS, ELIGIBILITY_COURSES, diagnosis=diagnosis)
    return build_cohort(dataset, _protocol("{drug: pamidronate}", eligibility))


def test_require_sex_center_age_and_diagnosis_with_missing_values_named():
    cohort = _eligibility_cohort("""\
eligibility:
  require:
    - {sex: {in: [F]}}
    - {center: {in: [Genoa]}}
    - {age: {at: onset, op: ">=", value: 2}}
    - {diagnosis: {field: multifocal}}
""")
    # q1: " Genoa " trimmed is Genoa; born 2010-03-15, onset 2012-03-15 = 731 days = 2.0014 years
    assert _index(cohort).keys() == {"q1", "q4"}
    assert _reasons(cohort) == {
        "q2": "required but not met: sex F",
        # born 2010-03 (taken as the 15th), onset 2012-03-14: 730 days / 365.25 = 1.9986 years
        "q3": "required but not met: age at onset at least 2 years",
        "q5": "required but not met: center Genoa",
        # no birth date: age missing; an empty multifocal: diagnosis missing
        "q6": ("required but missing: age at onset at least 2 years; "
               "required but missing: multifocal yes at diagnosis (diagnosis table)"),
    }


def test_a_patient_without_a_diagnosis_row_is_missing_for_a_diagnosis_criterion():
    cohort = _eligibility_cohort("eligibility: {require: [{diagnosis: {field: multifocal}}]}",
                                 diagnosis=DIAGNOSIS[:2])
    assert _index(cohort).keys() == {"q1", "q2"}
    assert set(_reasons(cohort).values()) == {"required but missing: multifocal yes at diagnosis (diagnosis table)"}


def test_exclude_by_treatment_after_index_and_by_exclusion_list():
    cohort = _eligibility_cohort("""\
eligibility:
  exclude:
    - {treatment: {drugs: [methotrexate], when: after_index}}
    - {age: {at: onset, op: "<", value: 2}}
  exclude_patients:
    - {patient_id: q5, reason: "duplicate record of q1"}
    - {patient_id: q99, reason: "withdrew consent"}
""")
    # q4 started methotrexate 2014-06-01 after its pamidronate index (2014-01-01); q3 was 1.9986
    # at onset; q6's missing age does not exclude; q99 is not in the dataset: a note
    assert _index(cohort).keys() == {"q1", "q2", "q6"}
    assert _reasons(cohort) == {
        "q3": "excluded: age at onset below 2 years",
        "q4": "excluded: a course of methotrexate other than the index course that started on or after the index date",
        "q5": "duplicate record of q1",
    }
    assert cohort.notes == ["eligibility.exclude_patients: 'q99' not applied, it is not a patient of the dataset"]
    protocol = _protocol("{drug: pamidronate}", "eligibility: {exclude_patients: [{patient_id: q99, reason: x}]}")
    evaluation = evaluate(_dataset(ELIGIBILITY_PATIENTS, ELIGIBILITY_COURSES), protocol, statistics=False)
    assert evaluation.notes == cohort.notes and evaluation.as_json()["notes"] == cohort.notes


def test_require_a_treatment_before_the_index_adds_its_column():
    cohort = _eligibility_cohort("eligibility: {require: [{treatment: {classes: [nsaid]}}]}")
    # every patient had naproxen 2013 before pamidronate 2014
    assert cohort.eligible.height == 6
    assert cohort.eligible["treatment[before_index;classes=nsaid]"].to_list() == [True] * 6
    later = _eligibility_cohort("eligibility: {require: [{treatment: {drugs: [methotrexate], when: ever}}]}")
    assert _index(later).keys() == {"q4"}


def test_a_timepoint_criterion_in_eligibility_is_refused_by_name():
    eligibility = "eligibility: {require: [{any: [{sex: {in: [F]}}, {pga: {at: baseline, in: [none]}}]}]}"
    with pytest.raises(ProtocolError, match=r"eligibility.require.0.any.1"):  # by the loader
        _protocol("{drug: pamidronate}", eligibility)
    data = yaml.safe_load(_protocol_text("{drug: pamidronate}", eligibility))
    protocol = Protocol.model_validate(data)  # past the loader: the cohort refuses it too
    with pytest.raises(ProtocolError, match=r"eligibility.require.0.any.1: a 'pga' criterion needs timepoints"):
        build_cohort(_dataset(ELIGIBILITY_PATIENTS, ELIGIBILITY_COURSES), protocol)


def test_a_course_measure_without_timepoint_can_require():
    cohort = _eligibility_cohort(
        'eligibility: {require: [{course: {measure: nsaids_tried, op: ">=", value: 1}}]}')
    assert cohort.eligible.height == 6  # each tried naproxen
    assert not any(c.startswith("course.") for c in cohort.eligible.columns)
    none = _eligibility_cohort('eligibility: {exclude: [{course: {measure: nsaids_tried, op: ">=", value: 1}}]}')
    assert none.eligible.height == 0
    assert set(_reasons(none).values()) == {"excluded: NSAIDs tried at least 1"}


def test_patient_criteria_work_inside_endpoints_through_the_patient_table():
    protocol = _protocol("{drug: pamidronate}", "", """\
- id: older
  kind: proportion
  label: at least 2 years old at onset, among those given methotrexate after the index
  criterion: {age: {at: onset, op: ">=", value: 2}}
  among: {treatment: {drugs: [methotrexate], when: after_index}}
- id: genoa
  kind: proportion
  label: seen in Genoa
  criterion: {center: {in: [Genoa]}}
""")
    dataset = _dataset(ELIGIBILITY_PATIENTS, ELIGIBILITY_COURSES, diagnosis=DIAGNOSIS)
    cohort = build_cohort(dataset, protocol)
    table = build_patient_table(dataset, protocol, cohort, protocol_needs(protocol)).patients
    among = table.filter(criterion_expr(protocol.endpoint("older").among))
    assert among["patient_id"].to_list() == ["q4"]
    genoa = table.select("patient_id", criterion_expr(protocol.endpoint("genoa").criterion).alias("g"))
    # q5 is in Rome; the others are in Genoa (q1 after trimming)
    assert dict(genoa.rows()) == {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": True}


def test_treatment_when_index_and_before_index_are_missing_without_an_index_course():
    protocol = _protocol("{targets: [TNF]}", "", """\
- id: index_adalimumab
  kind: proportion
  label: index course is adalimumab
  criterion: {treatment: {drugs: [adalimumab], when: index}}
""")
    dataset = _dataset(TNF_PATIENTS, TNF_COURSES)
    cohort = build_cohort(dataset, protocol)
    flags = dict(cohort.eligible.select("patient_id", "treatment[index;drugs=adalimumab]").rows())
    # b, d, e have adalimumab as their index course; a and f etanercept
    assert flags == {"a": False, "b": True, "d": True, "e": True, "f": False}


def test_the_line_vocabulary_names_only_known_drugs_classes_and_targets():
    for key, line in lines().lines.items():
        assert set(line.selection.classes) <= set(drugs().classes), key
        assert set(line.selection.targets) <= set(drugs().targets), key
    bad = LineVocabulary.model_validate({"source": "s", "lines": {
        "third_biologic": {"label": "third biologic", "selection": {"classes": ["biologics"]}, "order": 3}}})
    with pytest.raises(VocabularyError, match="line 'third_biologic' names class 'biologics'"):
        bad.check_against(drugs())


def test_an_evaluation_counts_a_proportion_among_a_treatment_subgroup():
    from cnotrack.engine.evaluate import evaluate

    protocol = _protocol("{drug: pamidronate}", "eligibility: {require: [{sex: {in: [F]}}]}", """\
- id: genoa_among_nsaid
  kind: proportion
  label: seen in Genoa, among those given an NSAID before the index
  criterion: {center: {in: [Genoa]}}
  among: {treatment: {classes: [nsaid], when: before_index}}
""")
    dataset = _dataset(ELIGIBILITY_PATIENTS, ELIGIBILITY_COURSES, diagnosis=DIAGNOSIS)
    result = evaluate(dataset, protocol, statistics=False).as_json(detail=False)["endpoints"]["genoa_among_nsaid"]
    # q2 is male: 5 eligible, all had naproxen before pamidronate; q5 is in Rome: 4 of 5
    assert (result["n"], result["of"], result["missing"]) == (4, 5, 0)


def test_the_cohort_carries_ages_not_the_birth_date_so_no_output_shows_it():
    """Age criteria and measures need the birth date, but a report, the JSON and the listing are
    shared: the cohort keeps ages (years at the index date, onset and diagnosis) instead."""
    cohort = _eligibility_cohort("eligibility: {require: [{age: {at: onset, op: '>=', value: 2}}]}")
    assert "birth_date" not in cohort.eligible.columns
    # q1: born 2010-03-15, onset 2012-03-15: 731 days
    ages = dict(cohort.eligible.select("patient_id", "age_at_onset").iter_rows())
    assert ages["q1"] == pytest.approx(731 / 365.25, abs=1e-12)
    protocol = _protocol("{drug: pamidronate}", "",
                         "- {id: age, kind: distribution, label: age, measure: {age: {at: index}}}\n")
    evaluation = evaluate(_dataset(ELIGIBILITY_PATIENTS, ELIGIBILITY_COURSES), protocol, statistics=False)
    text = json.dumps(evaluation.as_json(), default=str)
    assert "birth_date" not in text and "2010-03-15" not in text
    assert evaluation.endpoints["age"].n == 5  # q6 has no birth date
