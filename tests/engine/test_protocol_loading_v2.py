"""Loading a v2 protocol: errors that name the key and the nearest valid choice, checks of every
name a protocol uses, copied protocols that lose the published values of the study they were
copied from, and the words of every new construct (with v1 paragraphs unchanged)."""

from __future__ import annotations

import json
import sys
import warnings
from importlib import resources
from pathlib import Path

import pytest

import cnotrack
from cnotrack.protocols import (
    ProtocolWarning, copy_warnings, load_protocol, load_protocol_with_warnings, methods_paragraph,
    parse_protocol,
)

PARDEO = resources.files("cnotrack.protocols").joinpath("builtin/pardeo2017.yaml").read_text("utf-8")
PGA6 = "criterion: {pga: {at: month6, in: [none, minimal]}}"
SNAPSHOTS = Path(__file__).parent / "v1_snapshots"


def pardeo(old: str, new: str) -> str:
    assert old in PARDEO, old
    return PARDEO.replace(old, new, 1)


def refused(text: str) -> str:
    with pytest.raises(cnotrack.ProtocolError) as raised:
        parse_protocol(text, source="mine.yaml")
    return str(raised.value)


# ---------------------------------------------------------------- errors that help

def test_a_misspelt_criterion_kind_names_itself_and_the_nearest_kind_not_every_alternative() -> None:
    message = refused(pardeo(PGA6, "criterion: {centre: {in: [Rome]}}"))
    assert "at endpoints.3.criterion: unknown criterion 'centre'; did you mean 'center'?" in message
    assert "(criteria: pga, assessment," in message
    assert "Field required" not in message and "PgaCriterion" not in message and "tagged-union" not in message


def test_a_misspelt_key_of_an_endpoint_names_the_nearest_key_and_not_the_key_it_leaves_missing() -> None:
    message = refused(pardeo(PGA6, "critera: {pga: {at: month6, in: [none, minimal]}}"))
    assert message == ("mine.yaml: at endpoints.3.critera: unknown key 'critera'; did you mean 'criterion'? "
                       "(keys: id, label, published, kind, criterion, among)")


def test_a_misspelt_key_inside_a_criterion_names_the_keys_of_that_criterion() -> None:
    message = refused(pardeo(PGA6, "criterion: {pga: {att: month6, in: [none, minimal]}}"))
    assert message == "mine.yaml: at endpoints.3.criterion.pga.att: unknown key 'att'; did you mean 'at'? (keys: at, in)"


def test_a_criterion_with_two_keys_is_told_that_a_criterion_has_exactly_one() -> None:
    message = refused(pardeo(PGA6, "criterion: {pga: {at: month6, in: [none]}, sex: {in: [F]}}"))
    assert "at endpoints.3.criterion: a criterion has exactly one key naming its kind (got 2: pga, sex)" in message
    assert "all: [...]" in message


def test_an_unknown_endpoint_kind_lists_the_kinds() -> None:
    message = refused(pardeo("kind: distribution", "kind: histogram"))
    assert message == ("mine.yaml: at endpoints.17.kind: unknown endpoint kind 'histogram' "
                       "(kinds: proportion, count, distribution, time_to_event)")
    assert "did you mean 'count'?" in refused(pardeo("kind: distribution", "kind: cuont"))


def test_errors_deep_inside_all_any_and_eligibility_name_their_path() -> None:
    message = refused(pardeo("- {lab_elevated: {test: ESR, at: baseline}}", "- {lab_elevted: {test: ESR, at: baseline}}"))
    assert "at endpoints.4.criterion.all.0: unknown criterion 'lab_elevted'; did you mean 'lab_elevated'?" in message
    message = refused(pardeo("minimum_course_days: 182", "minimum_course_days: 182\n  require: [{sexx: {in: [F]}}]"))
    assert "at eligibility.require.0: unknown criterion 'sexx'; did you mean 'sex'?" in message


def test_an_unknown_event_and_an_unknown_group_name_the_nearest_valid_one() -> None:
    tte = "  - {id: t, label: t, kind: time_to_event, event: {flaer: {definition: nsaid_restart}}}\n"
    message = refused(pardeo("endpoints:\n", "endpoints:\n" + tte))
    assert "at endpoints.0.event: unknown event 'flaer'; did you mean 'flare'? (events: treatment_started," in message
    message = refused(PARDEO + "\ncompare: {by: sexx}\n")
    assert "at compare.by: 'sexx' is neither one of index_drug, index_class, index_target, sex, center nor a " \
           "criterion; did you mean 'sex'?" in message
    # a criterion with a bad value is told about its value only, not that it is no group name
    assert refused(PARDEO + "\ncompare: {by: {sex: {in: [X]}}}\n") == \
        "mine.yaml: at compare.by.sex.in.0: Input should be 'F', 'M' or 'U' (got 'X')"
    assert refused(pardeo("patients: all", "patients: everyone")) == \
        "mine.yaml: at endpoints.0.patients: 'everyone' is neither all nor a criterion"


def test_an_unknown_top_level_key_and_an_unquoted_yes_are_explained() -> None:
    assert "at titel: unknown key 'titel'; did you mean 'title'?" in refused("titel: x\n" + PARDEO)
    message = refused(PARDEO + "\ncompare: {by: {sex: {in: [F]}}, group_labels: {yes: girls}}\n")
    assert "at compare.group_labels" in message and "write it in quotes, such as 'yes'" in message


# ---------------------------------------------------------------- every name is checked

V2 = """
id: names
title: names
index_treatment: {drug: anakinra}
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-30, 14]}
  - {id: month3, label: month 3, target_day: 91, window: [60, 120]}
endpoints:
  - {id: n, kind: count, label: n, patients: all}
"""


def v2(*endpoints: str, **top: str) -> str:
    text = V2 + "".join(f"  - {e}\n" for e in endpoints)
    return text + "".join(f"{k}: {v}\n" for k, v in top.items())


@pytest.mark.parametrize("endpoint, top, phrases", [
    ("{id: c, kind: proportion, label: c, criterion: {change: {of: pain, from: baseline, to: month3, op: '<=', value: -2}}}",
     {}, ["endpoint c: criterion.change.of: 'pain' is neither a lab test nor a variable", "pain_vas", "CRP"]),
    ("{id: c, kind: distribution, label: c, measure: {value: {of: ESX, at: month3}}}",
     {}, ["endpoint c: measure.value.of: 'ESX'"]),
    ("{id: c, kind: distribution, label: c, measure: {change: {of: pain_vas, from: baseline, to: month6}}}",
     {}, ["endpoint c (measure.change.to): timepoint 'month6' is not defined (timepoints: baseline, month3)"]),
    ("{id: c, kind: count, label: c, lesions: {from: baseline, to: month3, fate: new, regions: [spines]}}",
     {}, ["endpoint c: lesions.regions: 'spines' is not a region (", "spine"]),
    ("{id: c, kind: proportion, label: c, criterion: {new_lesions: {from: baseline, to: month3, bones: [clavicula]}}}",
     {}, ["criterion.new_lesions.bones: 'clavicula' is not a bone"]),
    ("{id: c, kind: time_to_event, label: c, event: {flare: {definition: nsaid_gap}}}",
     {}, ["endpoint c: event.flare.definition: no flare definition 'nsaid_gap' (nsaid_restart)"]),
    ("{id: c, kind: distribution, label: c, measure: {course: {measure: nsaid_tried}}}",
     {}, ["endpoint c: measure.course.measure: course measure 'nsaid_tried' is unknown; did you mean nsaids_tried"]),
    ("{id: c, kind: proportion, label: c, criterion: {sex: {in: [F]}}}",
     {"paired_tests": "[[baseline, month6]]"},
     ["paired_tests.0: timepoint 'month6' is not defined (timepoints: baseline, month3)"]),
    ("{id: c, kind: proportion, label: c, criterion: {sex: {in: [F]}}}",
     {"compare": "{by: sex, groups: [F, W]}"}, ["compare.0.groups: 'W' is not a group of sex (F, M, U)"]),
    ("{id: c, kind: proportion, label: c, criterion: {sex: {in: [F]}}}",
     {"compare": "{by: index_class, groups: [biologics]}"}, ["'biologics' is not a group of index_class", "biologic"]),
    ("{id: c, kind: proportion, label: c, criterion: {sex: {in: [F]}}}",
     {"compare": "{by: {pga: {at: month9, in: [none]}}}"}, ["compare.0.by.pga.at: timepoint 'month9' is not defined"]),
    ("{id: c, kind: proportion, label: c, criterion: {sex: {in: [F]}}}",
     {"eligibility": "{require: [{pga: {at: baseline, in: [none]}}]}"},
     ["eligibility.require.0.pga.at: 'baseline' names a timepoint, but eligibility is decided before timepoints exist"]),
    ("{id: c, kind: proportion, label: c, criterion: {sex: {in: [F]}}}",
     {"eligibility": "{exclude: [{course: {measure: multifocal, at: baseline}}]}"},
     ["eligibility.exclude.0.course.at: 'baseline' names a timepoint"]),
])
def test_every_name_a_v2_protocol_uses_is_checked_with_the_key_and_the_choices(endpoint, top, phrases) -> None:
    message = refused(v2(endpoint, **top))
    for phrase in phrases:
        assert phrase in message, (phrase, message)


def test_names_that_exist_pass_and_age_at_onset_is_not_taken_for_a_timepoint() -> None:
    protocol = parse_protocol(v2(
        "{id: a, kind: distribution, label: a, measure: {age: {at: onset}}}",
        "{id: b, kind: proportion, label: b, criterion: {age: {at: diagnosis, op: '<', value: 10}}}",
        "{id: c, kind: distribution, label: c, measure: {change: {of: CRP, from: baseline, to: month3}}}",
        "{id: d, kind: time_to_event, label: d, event: {flare: {definition: nsaid_restart}}}",
        "{id: e, kind: count, label: e, lesions: {from: baseline, to: month3, fate: new, regions: [spine], bones: [clavicle]}}",
        eligibility="{require: [{age: {at: onset, op: '>=', value: 2}}, {center: {in: [Rome]}}]}",
        paired_tests="[[baseline, month3]]", compare="{by: sex, groups: [F, M]}"))
    assert protocol.pairs() == (("baseline", "month3"),)


# ---------------------------------------------------------------- copying a protocol is safe

def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_copy_of_pardeo2017_with_another_drug_warns_and_loses_the_published_values(tmp_path: Path) -> None:
    path = write(tmp_path, pardeo("drug: anakinra", "drug: adalimumab"))
    protocol, found = load_protocol_with_warnings(path)
    assert all(e.published is None for e in protocol.endpoints)
    assert len(found) == 2
    assert found[0].startswith(f"{path}: keeps the id 'pardeo2017' of the built-in protocol, but its index "
                               "treatment (adalimumab (biologic, ATC L04AB04) here, anakinra")
    assert "give it an id, title and citation of its own" in found[0]
    assert found[1].startswith(f"{path}: 17 published values (cohort.n, cohort.female,")
    assert "they are not shown. Remove them, or replace them" in found[1]


def test_an_unchanged_copy_keeps_its_published_values_without_a_warning(tmp_path: Path) -> None:
    for text in (PARDEO, pardeo("id: pardeo2017", "id: my_pardeo")):
        protocol, found = load_protocol_with_warnings(write(tmp_path, text))
        assert found == []
        assert protocol.endpoint("month6.pga_none_or_minimal").published == "5/9"


def test_a_changed_endpoint_loses_only_its_own_published_value(tmp_path: Path) -> None:
    text = pardeo("id: pardeo2017", "id: my_pardeo").replace(PGA6, "criterion: {pga: {at: month6, in: [none]}}")
    protocol, found = load_protocol_with_warnings(write(tmp_path, text))
    assert protocol.endpoint("month6.pga_none_or_minimal").published is None
    assert protocol.endpoint("baseline.pga_mild_or_worse").published == "9/9"
    assert found == [f"{tmp_path / 'mine.yaml'}: 1 published value (month6.pga_none_or_minimal) is those of the "
                     "built-in protocol pardeo2017, but the definition of this endpoint differs from pardeo2017's; "
                     "they are not shown. Remove them, or replace them with the published values of the study "
                     "this protocol follows"]


@pytest.mark.parametrize("old, new, what", [
    ("window: [-90, 14]", "window: [-60, 14]", "timepoints"),
    ("imaging_modality: bone_scintigraphy", "imaging_modality: wb_mri", "imaging modality (wb_mri here"),
    ("ESR: {upper: 20, unit: mm/h}", "ESR: {upper: 15, unit: mm/h}", "reference limits"),
    ("minimum_course_days: 182", "minimum_course_days: 90", "eligibility"),
])
def test_a_copy_with_another_cohort_loses_the_published_values_and_names_what_differs(tmp_path, old, new, what) -> None:
    text = pardeo("id: pardeo2017", "id: my_pardeo")
    assert old in text
    protocol, found = load_protocol_with_warnings(write(tmp_path, text.replace(old, new, 1)))
    assert [e.published for e in protocol.endpoints if e.published] == []
    assert len(found) == 1 and f"this protocol's {what}" in found[0]


def test_a_protocol_of_ones_own_with_its_own_published_values_keeps_them(tmp_path: Path) -> None:
    text = pardeo("id: pardeo2017", "id: my_study").replace("drug: anakinra", "drug: adalimumab") \
        .replace("published: 5/9", "published: 12/20")
    protocol, found = load_protocol_with_warnings(write(tmp_path, text))
    assert protocol.endpoint("month6.pga_none_or_minimal").published == "12/20"
    assert protocol.endpoint("baseline.pga_mild_or_worse").published is None  # carried over: dropped
    assert len(found) == 1 and "15 published values" in found[0]  # 5/9 is published twice


def test_built_in_protocols_load_without_warnings_and_copy_warnings_says_the_same(tmp_path: Path) -> None:
    for name in cnotrack.protocols.builtin_protocols():
        assert load_protocol_with_warnings(name)[1] == []
    copy = parse_protocol(pardeo("drug: anakinra", "drug: adalimumab"))
    assert len(copy_warnings(copy, "copy.yaml")) == 2


def test_load_protocol_emits_each_warning_as_a_protocol_warning(tmp_path: Path) -> None:
    path = write(tmp_path, pardeo("drug: anakinra", "drug: adalimumab"))
    with pytest.warns(ProtocolWarning) as record:
        protocol = load_protocol(path)
    assert [str(w.message) for w in record] == load_protocol_with_warnings(path)[1]
    assert len(record) == 2 and "keeps the id 'pardeo2017'" in str(record[0].message)
    assert protocol.endpoint("cohort.n").published is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_protocol("pardeo2017")


def test_the_cli_prints_the_warnings_to_stderr_and_the_json_notes_carry_them(tmp_path, monkeypatch, capsys) -> None:
    from cnotrack.cli import main
    from cnotrack.demo import demo_dataset
    from cnotrack.exchange import export_dataset

    data = export_dataset(demo_dataset(), tmp_path / "demo")
    path = write(tmp_path, pardeo("drug: anakinra", "drug: adalimumab"))
    monkeypatch.setattr(sys, "argv", ["cnotrack", "evaluate", str(data), "--protocol", str(path), "--format", "json"])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    assert info.value.code in (0, None)
    warned = [line for line in captured.err.splitlines() if line.startswith("Warning: ")]
    assert len(warned) == 2 and "keeps the id 'pardeo2017'" in warned[0]
    body = json.loads(captured.out)
    assert len(body["notes"]) == 2 and "17 published values" in body["notes"][1]
    assert all(not isinstance(v, dict) or v.get("published") is None for v in body["endpoints"].values())


# ---------------------------------------------------------------- the words of every construct

@pytest.mark.parametrize("name", ["pardeo2017", "pedcno"])
def test_a_v1_protocol_gives_exactly_the_methods_paragraph_of_v1(name: str) -> None:
    assert methods_paragraph(load_protocol(name)) + "\n" == (SNAPSHOTS / f"methods.{name}.txt").read_text("utf-8")


WORDS = """
id: words
title: words
index_treatment: {targets: [TNF], line: second_line}
eligibility:
  require: [{center: {in: [Rome, Genoa]}}, {age: {at: onset, op: "<", value: 16}}, {diagnosis: {field: multifocal}}]
  exclude: [{treatment: {drugs: [methotrexate], when: ever}}]
  exclude_patients: [{patient_id: P9, reason: duplicate of P3}]
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-60, 14]}
  - {id: month3, label: month 3, target_day: 91, window: [60, 120]}
imaging_modality: wb_mri
paired_tests: [[baseline, month3]]
km_median: first
compare:
  - {by: index_drug, groups: [adalimumab, etanercept]}
  - {id: girls, by: {sex: {in: [F]}}, group_labels: {'yes': girls, 'no': boys}}
endpoints:
  - {id: spine, kind: proportion, label: s, criterion: {new_lesions: {from: baseline, to: month3, regions: [spine], symptomatic: true}}}
  - {id: spine_res, kind: count, label: spinal lesions resolved, lesions: {from: baseline, to: month3, fate: resolved, regions: [spine], symptomatic: true}}
  - {id: fell, kind: proportion, label: p, criterion: {change: {of: pain_vas, from: baseline, to: month3, op: "<=", value: -2}}}
  - {id: crp, kind: proportion, label: p, criterion: {change: {of: CRP, from: baseline, to: month3, op: "<=", value: -50, percent: true}}}
  - {id: pain, kind: distribution, label: p, measure: {change: {of: pain_vas, from: baseline, to: month3}}}
  - {id: crp_pc, kind: distribution, label: p, measure: {percent_change: {of: CRP, from: baseline, to: month3}}}
  - {id: esr3, kind: distribution, label: p, measure: {value: {of: ESR, at: month3}}}
  - {id: spine_n, kind: distribution, label: l, measure: {lesion_count: {at: baseline, regions: [spine]}}}
  - {id: age, kind: distribution, label: a, measure: {age: {at: diagnosis}}}
  - {id: to_tnf, kind: time_to_event, label: f, event: {treatment_started: {targets: [TNF]}}}
  - {id: to_stop, kind: time_to_event, label: f, start: diagnosis, event: {treatment_stopped: {reasons: [inefficacy]}}}
  - {id: to_flare, kind: time_to_event, label: f, event: {flare: {definition: nsaid_restart}}}
"""


def test_every_v2_construct_has_its_words_in_the_methods_paragraph() -> None:
    text = " ".join(methods_paragraph(parse_protocol(WORDS)).split())
    for phrase in [
        "The index treatment is the course that starts each patient's second-line treatment (the first course "
        "of any conventional DMARD, any bisphosphonate, any biologic or any JAK inhibitor, as "
        "vocabularies/lines.yaml defines it), when it is of any TNF inhibitor;",
        "Patients are eligible with center Rome or Genoa, age at onset below 16 years and multifocal yes at "
        "diagnosis (diagnosis table); every other patient is listed as excluded with the reason.",
        "Patients with a course of methotrexate at any time are excluded.",
        "1 patient is left out by name (P9: duplicate of P3).",
        "spine: the proportion of eligible patients with at least one symptomatic new lesion of the spine at "
        "month 3 (not seen at baseline).",
        "spine_res: the number of spinal lesions resolved (lesions (symptomatic only) of the spine).",
        "fell: the proportion of eligible patients with a change in pain (0-10) from baseline to month 3 "
        "(month 3 minus baseline) at most -2.",
        "crp: the proportion of eligible patients with a percent change in CRP (mg/L) from baseline to month 3 "
        "(100 (month 3 - baseline) / baseline; missing when the baseline value is 0) at most -50%.",
        "pain: change in pain (0-10) from baseline to month 3 (month 3 minus baseline), as median",
        "esr3: ESR (mm/h) at month 3, as median",
        "spine_n: number of active lesions of the spine at baseline, as median",
        "age: age in years at diagnosis (days from the birth date / 365.25)",
        "to_tnf: days from the index date to the first start of a course of any TNF inhibitor after it, censored "
        "at the last follow-up (the patient's latest assessment), as a Kaplan-Meier estimate with the numbers "
        "at risk at 0.5, 1 and 2 years.",
        "to_stop: days from diagnosis to the first stop of the index course for inefficacy after it",
        "to_flare: days from the index date to the first flare (",
        "as min(time[surv <= 0.5]) in R.",
        "Paired tests compare baseline with month 3, over the patients with a value at both timepoints",
        "Comparison index_drug: every endpoint per index drug (adalimumab and etanercept).",
        "Comparison girls: every endpoint in the patients with sex F (yes) and without (no), in the order "
        "girls (yes) then boys (no).",
        "Groups are compared by Fisher's exact test for proportions",
        "the log-rank test for times to event",
    ]:
        assert phrase in text, phrase


def test_the_kaplan_meier_median_rule_by_default_is_rs_midpoint() -> None:
    text = methods_paragraph(parse_protocol(WORDS.replace("km_median: first\n", "")))
    assert "the midpoint of that interval (to the next event time), as R's quantile(survfit) computes it" in text
