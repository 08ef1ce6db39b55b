"""Protocols as data: the built-in pardeo2017 loads, says what it does, reproduces the seed
study on the demo cohort, and a broken protocol is refused with an error naming the key."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

import cnotrack
from cnotrack.demo import demo_dataset
from cnotrack.engine import evaluate
from cnotrack.protocols import builtin_protocols, load_protocol, methods_paragraph, parse_protocol
from cnotrack.protocols.model import Count, Distribution, Proportion
from cnotrack.render import summary_sentences

PARDEO_YAML = resources.files("cnotrack.protocols").joinpath("builtin/pardeo2017.yaml").read_text("utf-8")

ENDPOINT_IDS = [
    "cohort.n", "cohort.female", "baseline.pga_mild_or_worse", "month6.pga_none_or_minimal",
    "baseline.esr_and_crp_elevated", "month6.esr_and_crp_normalized", "month6.esr_and_crp_decreased",
    "month6.lesions.baseline_total", "month6.lesions.resolved", "month6.lesions.stable",
    "month6.lesions.improved", "month6.lesions.worsened", "month6.lesions.new",
    "month6.lesions.patients_missing", "month6.patients_with_new_lesions",
    "month6.patients_with_symptomatic_new_lesions", "last_followup.pga_none_or_minimal",
    "last_followup.years",
]

# The published table of seed-protocol.md (Pardeo et al., J Rheumatol 2017).
PUBLISHED_COUNTS = {
    "cohort.n": 9, "cohort.female": 6, "month6.lesions.baseline_total": 77, "month6.lesions.resolved": 42,
    "month6.lesions.stable": 35, "month6.lesions.improved": 0, "month6.lesions.worsened": 0,
    "month6.lesions.new": 20,
}
PUBLISHED_PROPORTIONS = {
    "baseline.pga_mild_or_worse": (9, 9), "month6.pga_none_or_minimal": (5, 9),
    "baseline.esr_and_crp_elevated": (8, 9), "month6.esr_and_crp_normalized": (5, 9),
    "month6.esr_and_crp_decreased": (8, 9), "month6.patients_with_new_lesions": (7, 9),
    "month6.patients_with_symptomatic_new_lesions": (2, 7), "last_followup.pga_none_or_minimal": (6, 9),
}


@pytest.fixture(scope="module")
def demo_evaluation():
    return evaluate(demo_dataset(), load_protocol("pardeo2017"))


def broken(old: str, new: str) -> str:
    """The pardeo2017 YAML with one piece replaced (which must be there)."""
    assert old in PARDEO_YAML, old
    return PARDEO_YAML.replace(old, new, 1)


# ---------------------------------------------------------------- loading


def test_pardeo2017_is_a_builtin_protocol_with_the_eighteen_endpoints_of_the_spec() -> None:
    assert "pardeo2017" in builtin_protocols()
    protocol = load_protocol("pardeo2017")
    assert protocol.id == "pardeo2017"
    assert [e.id for e in protocol.endpoints] == ENDPOINT_IDS
    assert protocol.index_treatment.drug == "anakinra"
    assert protocol.eligibility.minimum_course_days == 182
    assert protocol.imaging_modality == "bone_scintigraphy"
    windows = {t.id: (t.target_day, t.window) for t in protocol.timepoints}
    assert windows["baseline"] == (0, (-90, 14))
    assert windows["month6"] == (182, (120, 240))
    assert protocol.timepoint("last_followup").anchor == "last_assessment"
    kinds = {e.id: type(e) for e in protocol.endpoints}
    assert kinds["last_followup.years"] is Distribution
    assert kinds["month6.lesions.new"] is Count
    assert kinds["month6.patients_with_symptomatic_new_lesions"] is Proportion


def test_a_protocol_file_given_by_path_loads_like_the_builtin_one(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(PARDEO_YAML, "utf-8")
    assert load_protocol(path) == load_protocol("pardeo2017")
    assert load_protocol(str(path)) == load_protocol("pardeo2017")


def test_an_unknown_protocol_name_is_an_error_listing_the_builtin_ones() -> None:
    with pytest.raises(cnotrack.ProtocolError, match="pardeo2017"):
        load_protocol("pardeo2018")


# ---------------------------------------------------------------- errors name the key

PROTOCOL_ERRORS = {
    "a window given last day first": (
        broken("window: [-90, 14]", "window: [14, -90]"), ["timepoints.0", "baseline", "[14, -90]"]),
    "a target day outside its window": (
        broken("target_day: 182, window: [120, 240]", "target_day: 300, window: [120, 240]"),
        ["timepoints.1", "month6", "target_day 300"]),
    "an endpoint at an undefined timepoint month9": (
        broken("criterion: {pga: {at: month6, in: [none, minimal]}}",
               "criterion: {pga: {at: month9, in: [none, minimal]}}"),
        ["month6.pga_none_or_minimal", "month9"]),
    "a distribution to an undefined timepoint": (
        broken("follow_up_years: {to: last_followup}", "follow_up_years: {to: month9}"),
        ["last_followup.years", "month9"]),
    "an unknown lab test in a criterion": (
        broken("{lab_elevated: {test: ESR, at: baseline}}\n        - {lab_elevated: {test: CRP",
               "{lab_elevated: {test: ESX, at: baseline}}\n        - {lab_elevated: {test: CRP"),
        ["baseline.esr_and_crp_elevated", "ESX"]),
    "an unknown lab test in the reference limits": (
        broken("ESR: {upper: 20, unit: mm/h}", "ESX: {upper: 20, unit: mm/h}"), ["reference_limits.ESX"]),
    "a reference limit in a unit the test does not have": (
        broken("ESR: {upper: 20, unit: mm/h}", "ESR: {upper: 20, unit: mg/L}"),
        ["reference_limits.ESR.unit", "mm/h"]),
    "an unknown index drug": (
        broken("drug: anakinra", "drug: anakinrax"), ["index_treatment.drug", "anakinrax"]),
    "an unknown drug class of a prior treatment": (
        broken("classes: [nsaid]", "classes: [nsaidz]"),
        ["eligibility.prior_treatments.0.classes", "nsaidz"]),
    "a bad endpoint kind": (
        broken("kind: distribution", "kind: histogram"), ["endpoints.17", "kind", "histogram"]),
    "an unknown lesion fate": (
        broken("fate: resolved}", "fate: vanished}"), ["endpoints.8", "fate", "vanished"]),
    "a PGA level that does not exist": (
        broken("in: [none, minimal]}}\n    published: 5/9", "in: [none, tiny]}}\n    published: 5/9"),
        ["endpoints.3", "pga", "tiny"]),
    "a count that is part of an unknown count": (
        broken("of: cohort.n", "of: cohort.total"), ["cohort.female", "cohort.total"]),
    "two timepoints with one id": (
        broken("id: last_followup, label", "id: month6, label"), ["timepoint ids must be unique"]),
    "a missing index treatment": (
        broken("index_treatment:\n  drug: anakinra\n  course: first\n", ""), ["index_treatment"]),
    "text that is not YAML": ("id: [", ["not valid YAML"]),
    "YAML that is not a mapping": ("- just\n- a list\n", ["mapping"]),
}


@pytest.mark.parametrize("case", sorted(PROTOCOL_ERRORS))
def test_a_broken_protocol_raises_a_protocol_error_that_names_the_key(case: str) -> None:
    text, phrases = PROTOCOL_ERRORS[case]
    with pytest.raises(cnotrack.ProtocolError) as raised:
        parse_protocol(text, source="my-protocol.yaml")
    message = str(raised.value)
    assert message.startswith("my-protocol.yaml: ")
    for phrase in phrases:
        assert phrase in message, (phrase, message)


def test_a_protocol_error_is_a_cnotrack_error() -> None:
    assert issubclass(cnotrack.ProtocolError, cnotrack.CnotrackError)


def test_bug_an_unknown_drug_among_the_prior_treatments_is_refused_rather_than_excluding_everyone() -> None:
    """BUG (protocols/load.py, _reference_problems): ``prior_treatments.drugs`` is not checked
    against the drug vocabulary (``classes`` is), so a misspelt drug silently matches no course
    and every patient is excluded for "no course of ... before anakinra"."""
    text = broken("classes: [nsaid]", "classes: [nsaid]\n      drugs: [naproxenn]")
    with pytest.raises(cnotrack.ProtocolError, match=r"prior_treatments\.0\.drugs.*naproxenn"):
        parse_protocol(text)


def test_bug_a_summary_sentence_naming_an_unknown_endpoint_is_refused_when_the_protocol_loads() -> None:
    """BUG (protocols/load.py): ``summary`` placeholders are only checked while rendering, so a
    typo in a user's protocol surfaces as an error half-way through printing the results."""
    text = broken("{cohort.n|patients} {cohort.n|were} treated", "{cohort.nn|patients} {cohort.n|were} treated")
    with pytest.raises(cnotrack.ProtocolError, match=r"cohort\.nn"):
        parse_protocol(text)


# ---------------------------------------------------------------- the protocol says what it does


def test_the_methods_paragraph_states_windows_course_length_and_default_limits() -> None:
    text = " ".join(methods_paragraph(load_protocol("pardeo2017")).split())
    for phrase in ["window day -90 to 14", "window day 120 to 240", "182 days", "ESR 20 mm/h", "CRP 5 mg/L",
                   "first course of anakinra", "bone scintigraphy", "the earlier on a tie",
                   "a censored value <x is compared as x"]:
        assert phrase in text, phrase
    for endpoint_id in ENDPOINT_IDS:
        assert f"{endpoint_id}:" in text, endpoint_id


def test_the_methods_paragraph_of_another_protocol_follows_its_own_definition() -> None:
    text = " ".join(methods_paragraph(load_protocol(
        Path(__file__).resolve().parent.parent / "golden" / "custom_protocol" / "protocol.yaml")).split())
    assert "first course of adalimumab" in text
    assert "window day 60 to 120" in text and "window day 300 to 430" in text
    assert "CRP 10 mg/L" in text and "ESR 20" not in text
    assert "mri" in text.lower() and "scintigraphy" not in text
    assert "at least 300 days" in text


# ---------------------------------------------------------------- the demo reproduces the paper


def test_the_demo_gives_every_published_count(demo_evaluation) -> None:
    endpoints = demo_evaluation.as_json(detail=False)["endpoints"]
    for endpoint_id, value in PUBLISHED_COUNTS.items():
        assert endpoints[endpoint_id] == value, endpoint_id
    assert endpoints["month6.lesions.patients_missing"] == 0


def test_the_demo_gives_every_published_proportion_without_missing_data(demo_evaluation) -> None:
    endpoints = demo_evaluation.as_json(detail=False)["endpoints"]
    for endpoint_id, (n, of) in PUBLISHED_PROPORTIONS.items():
        assert {k: endpoints[endpoint_id][k] for k in ("n", "of", "missing")} == {"n": n, "of": of, "missing": 0}, \
            endpoint_id


def test_the_demo_gives_the_published_follow_up_median_1_7_and_range_0_8_to_2_8_years(demo_evaluation) -> None:
    years = demo_evaluation.as_json(detail=False)["endpoints"]["last_followup.years"]
    assert years["n"] == 9
    assert round(years["median"], 1) == 1.7
    assert round(years["min"], 1) == 0.8
    assert round(years["max"], 1) == 2.8
    assert years["min"] <= years["q1"] <= years["median"] <= years["q3"] <= years["max"]


def test_the_demo_cohort_is_complete_with_nobody_excluded(demo_evaluation) -> None:
    cohort = demo_evaluation.as_json(detail=False)["cohort"]
    assert cohort == {"n": 9, "female": 6, "excluded": []}


def test_the_demo_results_state_the_published_lesion_sentence(demo_evaluation) -> None:
    sentences = summary_sentences(demo_evaluation.protocol.summary, demo_evaluation.endpoints)
    assert ("After 6 months, 42 of 77 baseline lesions (54.5%) had resolved and 35 (45.5%) were stable."
            in sentences)


def test_every_published_figure_of_the_protocol_shows_as_computed_on_the_demo(demo_evaluation) -> None:
    from cnotrack.render.text import published_agrees

    disagree = [r.id for r in demo_evaluation.endpoints.values() if published_agrees(r) is False]
    assert disagree == []
    assert sum(published_agrees(r) is True for r in demo_evaluation.endpoints.values()) == 17


def test_each_endpoint_result_carries_its_method(demo_evaluation) -> None:
    methods = demo_evaluation.as_json(detail=False)["methods"]
    assert set(methods) == set(ENDPOINT_IDS)
    assert all(len(m) > 20 for m in methods.values())
    assert re.search(r"over the 9 patients", methods["month6.lesions.resolved"])
