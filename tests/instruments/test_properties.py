"""Invariants that hold for every allowed input (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cnotrack.instruments import (
    PedcnoCoreSet,
    bristol_criteria,
    chaq_disability_index,
    get_instrument,
    jansson_score,
    nbods_score,
    pedcno_response,
)

crp = st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False)
vas = st.floats(min_value=0, max_value=10, allow_nan=False, allow_infinity=False)
chaq_di = st.floats(min_value=0, max_value=3, allow_nan=False, allow_infinity=False)
core_sets = st.builds(
    PedcnoCoreSet,
    esr=st.floats(min_value=0, max_value=150, allow_nan=False, allow_infinity=False),
    mri_lesions=st.integers(min_value=0, max_value=40),
    physician_vas=vas,
    patient_vas=vas,
    chaq_di=chaq_di,
)


@given(
    flags=st.lists(st.booleans(), min_size=5, max_size=5),
    lesion_count=st.integers(min_value=0, max_value=60),
    crp_mg_l=crp,
)
def test_a_jansson_total_is_always_0_to_63_and_the_sum_of_its_item_points(flags, lesion_count, crp_mg_l):
    result = jansson_score(
        normal_blood_count=flags[0],
        symmetric_lesions=flags[1],
        marginal_sclerosis=flags[2],
        normal_temperature=flags[3],
        vertebral_clavicular_or_sternal_lesion=flags[4],
        lesion_count=lesion_count,
        crp_mg_l=crp_mg_l,
    )
    assert 0 <= result.score <= 63
    assert result.score == sum(item.points for item in result.items)
    allowed = {item.input: item.points for item in get_instrument("jansson").items}
    for item in result.items:
        assert item.points in (0, allowed[item.input])


@given(
    crp_mg_l=crp,
    multifocal=st.booleans(),
    femur=st.booleans(),
    bands=st.floats(min_value=0, max_value=5000, allow_nan=False, allow_infinity=False),
)
def test_a_nbods_total_is_the_sum_of_its_item_points_and_favours_nbo_exactly_above_17(crp_mg_l, multifocal, femur, bands):
    result = nbods_score(crp_mg_l=crp_mg_l, multifocal=multifocal, femur=femur, band_neutrophils_per_ul=bands)
    assert result.score == sum(item.points for item in result.items)
    assert 0 <= result.score <= 115
    assert (result.extra["category"] == "favours_nbo") == (result.score > 17)


@settings(max_examples=300)
@given(
    baseline=core_sets,
    followup=core_sets,
    limit=st.floats(min_value=0, max_value=300, allow_nan=False, allow_infinity=False),
)
def test_pedcno_90_implies_70_implies_50_implies_30(baseline, followup, limit):
    extra = pedcno_response(baseline=baseline, followup=followup, worsening_limit=limit).extra
    assert extra["pedcno90"] <= extra["pedcno70"] <= extra["pedcno50"] <= extra["pedcno30"]
    improved = extra["improved"]
    assert set(improved["90"]) <= set(improved["70"]) <= set(improved["50"]) <= set(improved["30"])
    assert not set(extra["not_evaluable"]) & set(improved["30"])


@given(
    answers=st.dictionaries(
        st.sampled_from([k for d in get_instrument("chaq").domains for k in d.items]),
        st.sampled_from([0, 1, 2, 3, "na", None]),
    ),
    aids=st.dictionaries(st.sampled_from([d.id for d in get_instrument("chaq").domains]), st.booleans()),
    min_domains=st.integers(min_value=1, max_value=8),
)
def test_a_chaq_index_is_0_to_3_and_only_computed_with_enough_answered_domains(answers, aids, min_domains):
    result = chaq_disability_index(answers, aids, min_domains=min_domains)
    answered = result.extra["answered_domains"]
    assert (result.score is not None) == (answered >= min_domains)
    if result.score is not None:
        assert 0 <= result.score <= 3
        for domain, used in aids.items():
            if used and result.extra["domains"][domain] is not None:
                assert result.extra["domains"][domain] >= 2


maybe_bool = st.sampled_from([True, False, None])


@given(
    typical_clinical=maybe_bool,
    typical_radiological=maybe_bool,
    bones=st.sampled_from([1, 2, 5, None]),
    clavicle_only=maybe_bool,
    crp_mg_l=st.sampled_from([0.0, 29.9, 30.0, 30.1, 80.0, None]),
    biopsy=maybe_bool,
)
def test_a_bristol_result_is_undetermined_only_when_a_missing_input_decides_it(
    typical_clinical, typical_radiological, bones, clavicle_only, crp_mg_l, biopsy
):
    if clavicle_only is True and bones is not None and bones > 1:
        return  # contradictory inputs are refused; tested elsewhere
    result = bristol_criteria(
        typical_clinical=typical_clinical,
        typical_radiological=typical_radiological,
        bones_involved=bones,
        clavicle_only=clavicle_only,
        crp_mg_l=crp_mg_l,
        biopsy_inflammatory_sterile=biopsy,
    ).extra
    assert set(result["undetermined_by"]) <= set(result["missing"])
    assert (result["status"] == "undetermined") == bool(result["undetermined_by"])
    if result["status"] == "met":
        assert result["criteria"]["1"] is True and result["criteria"]["2"] is True
    if result["branch"] is not None:
        assert result["criteria"]["3"] is True
        assert result["criteria"][result["branch"]] is True
