"""Each instrument's own typed function agrees with score(), and the result's JSON shape
is the documented one."""

from __future__ import annotations

import json

import pytest

from cnotrack.errors import InstrumentInputError
from cnotrack.instruments import (
    InstrumentResult,
    PedcnoCoreSet,
    bristol_criteria,
    chaq_disability_index,
    jansson_score,
    nbods_score,
    pedcno_response,
    pga_assessment,
    score,
)

COMMON_KEYS = {"instrument", "name", "score", "interpretation", "items", "citation", "doi", "certainty", "notes"}


def test_jansson_score_with_python_values_equals_score_with_command_line_strings():
    typed = jansson_score(
        normal_blood_count=True,
        symmetric_lesions=False,
        marginal_sclerosis=True,
        normal_temperature=True,
        vertebral_clavicular_or_sternal_lesion=False,
        lesion_count=2,
        crp_mg_l=10.0,
    )
    strings = score(
        "jansson",
        {
            "normal_blood_count": "yes",
            "symmetric_lesions": "no",
            "marginal_sclerosis": "yes",
            "normal_temperature": "yes",
            "vertebral_clavicular_or_sternal_lesion": "no",
            "lesion_count": "2",
            "crp_mg_l": "10",
        },
    )
    assert typed.as_json() == strings.as_json()
    assert typed.score == 45


def test_nbods_score_with_python_values_gives_the_published_points():
    result = nbods_score(crp_mg_l=55, multifocal=True, femur=True, band_neutrophils_per_ul=220)
    assert result.score == 56 + 27 + 17 + 15
    assert result.extra["category"] == "favours_nbo"


def test_pedcno_response_takes_core_sets_or_mappings_and_agrees_with_score():
    baseline = PedcnoCoreSet(esr=40, mri_lesions=5, physician_vas=6, patient_vas=7, chaq_di=1.25)
    followup = {"esr": 12, "mri_lesions": 2, "physician_vas": 2, "patient_vas": 3, "chaq_di": 0.5}
    typed = pedcno_response(baseline=baseline, followup=followup)
    flat = {f"baseline.{k}": str(v) for k, v in vars(baseline).items()}
    flat |= {f"followup.{k}": str(v) for k, v in followup.items()}
    assert typed.as_json() == score("pedcno", flat).as_json()
    assert typed.extra["pedcno50"] is True and typed.extra["pedcno70"] is False


def test_pedcno_response_names_an_unknown_core_variable_with_its_visit():
    followup = {"esr": 12, "mri_lesions": 2, "physician_vas": 2, "patient_vas": 3, "chaq": 0.5}
    with pytest.raises(InstrumentInputError, match="followup.chaq"):
        pedcno_response(
            baseline={"esr": 40, "mri_lesions": 5, "physician_vas": 6, "patient_vas": 7, "chaq_di": 1},
            followup=followup,
        )


def test_bristol_criteria_defaults_every_input_to_unknown():
    result = bristol_criteria(typical_clinical=True, typical_radiological=True, bones_involved=1,
                              clavicle_only=False, crp_mg_l=50, biopsy_inflammatory_sterile=True)
    assert result.extra["branch"] == "3b"
    assert bristol_criteria().extra["status"] == "undetermined"


def test_chaq_disability_index_takes_items_and_aids_by_domain():
    items = {f"{d}_1": 1 for d in ("dressing", "arising", "eating", "walking", "hygiene", "reach")}
    result = chaq_disability_index(items, aids={"walking": True})
    assert result.score == pytest.approx(7 / 6)
    assert result.extra["raised_by_aid"] == ["walking"]
    with pytest.raises(InstrumentInputError, match="unknown domain 'walk'"):
        chaq_disability_index(items, aids={"walk": True})


def test_chaq_with_every_item_answered_0_has_an_index_of_0():
    from cnotrack.instruments import get_instrument

    keys = [k for d in get_instrument("chaq").domains for k in d.items]
    assert chaq_disability_index({k: 0 for k in keys}).score == 0
    assert chaq_disability_index({k: 3 for k in keys}).score == 3


def test_pga_assessment_returns_the_value_unconverted_with_its_scale():
    ordinal = pga_assessment("severe", "ordinal")
    vas = pga_assessment(7.5, "vas")
    assert (ordinal.score, ordinal.extra["value"], ordinal.extra["scale"]) == (None, "severe", "ordinal")
    assert (vas.score, vas.extra["value"], vas.extra["scale"]) == (7.5, 7.5, "vas")


def test_a_pga_on_the_vas_cites_the_german_registry_and_on_the_ordinal_scale_the_seed_study():
    assert "Reiser C" in pga_assessment(5, "vas").citation
    assert "Pardeo M" in pga_assessment("mild", "ordinal").citation


@pytest.mark.parametrize(
    "result, extra_keys",
    [
        (lambda: jansson_score(normal_blood_count=True, symmetric_lesions=True, marginal_sclerosis=True,
                               normal_temperature=True, vertebral_clavicular_or_sternal_lesion=True,
                               lesion_count=3, crp_mg_l=12), {"category", "cutoff", "max_points"}),
        (lambda: pedcno_response(baseline=PedcnoCoreSet(10, 1, 5, 5, 1), followup=PedcnoCoreSet(5, 0, 2, 2, 0.5)),
         {"improved", "worsened", "not_evaluable", "percent_change", "pedcno30", "pedcno50", "pedcno70",
          "pedcno90", "worsening_limit"}),
        (lambda: bristol_criteria(typical_clinical=True),
         {"status", "met", "branch", "criteria", "missing", "undetermined_by"}),
        (lambda: chaq_disability_index({"dressing_1": 1}),
         {"domains", "answered_domains", "min_domains", "raised_by_aid", "aid_on_unanswered_domain"}),
        (lambda: pga_assessment("none", "ordinal"), {"value", "scale", "severe_course", "none_or_minimal"}),
    ],
    ids=["jansson", "pedcno", "bristol", "chaq", "pga"],
)
def test_as_json_has_the_common_keys_then_the_instrument_keys_at_top_level_and_is_json(result, extra_keys):
    out = result()
    assert isinstance(out, InstrumentResult)
    data = out.as_json()
    assert set(data) == COMMON_KEYS | extra_keys
    assert json.loads(json.dumps(data)) == data
    for item in data["items"]:
        assert set(item) == {"input", "value", "points", "note"}


def test_to_text_explains_the_score_items_notes_and_source():
    text = jansson_score(normal_blood_count=True, symmetric_lesions=False, marginal_sclerosis=False,
                         normal_temperature=True, vertebral_clavicular_or_sternal_lesion=False,
                         lesion_count=1, crp_mg_l=3).to_text()
    assert "22 of 63 points: NBO unlikely" in text
    assert "normal_blood_count = yes" in text and "13" in text
    assert "Certainty: reproduced." in text
    assert "Arthritis Rheum. 2009;60(4):1152-1159." in text


def test_jansson_warns_when_lesion_features_are_given_without_lesions():
    result = jansson_score(normal_blood_count=True, symmetric_lesions=True, marginal_sclerosis=False,
                           normal_temperature=True, vertebral_clavicular_or_sternal_lesion=False,
                           lesion_count=0, crp_mg_l=3)
    assert result.score == 32
    assert any("lesion_count is 0 but symmetric_lesions is yes" in n for n in result.notes)


def test_pedcno_states_the_baseline_0_rule_in_its_notes():
    result = pedcno_response(baseline=PedcnoCoreSet(10, 0, 5, 5, 1), followup=PedcnoCoreSet(5, 2, 2, 2, 0.5))
    assert result.extra["worsened"] == ["mri_lesions"]
    assert any("Baseline 0 (mri_lesions): not evaluable for improvement" in n for n in result.notes)


def test_bristol_says_how_a_crp_of_exactly_30_was_handled():
    result = bristol_criteria(typical_clinical=True, typical_radiological=True, bones_involved=2,
                              clavicle_only=False, crp_mg_l=30.0)
    assert result.extra["status"] == "not met"
    assert any("CRP is exactly 30 mg/L" in n for n in result.notes)


def test_instrument_names_are_read_case_insensitively():
    assert score(" PGA ", {"value": "none", "scale": "ordinal"}).instrument == "pga"
