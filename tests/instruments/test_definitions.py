"""The shipped instrument definitions load, are complete, and ship nothing of unknown certainty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cnotrack.instruments as instruments
from cnotrack.instruments import Certainty, get_instrument, list_instruments
from cnotrack.instruments._definitions import Comparison, InstrumentDefinition, load_definition
from cnotrack.instruments._scoring import interpret

DEFINITIONS_DIR = Path(instruments.__file__).parent / "definitions"


def test_the_package_exports_exactly_these_names():
    assert sorted(instruments.__all__) == sorted(
        [
            "Certainty",
            "InstrumentDefinition",
            "InstrumentResult",
            "ItemResult",
            "PedcnoCoreSet",
            "bristol_criteria",
            "chaq_disability_index",
            "get_instrument",
            "jansson_score",
            "list_instruments",
            "nbods_score",
            "parse_key_value_args",
            "pedcno_response",
            "pga_assessment",
            "score",
        ]
    )
    for name in instruments.__all__:
        assert hasattr(instruments, name), name


def test_exactly_the_six_known_instruments_are_shipped_one_file_each():
    ids = [d.id for d in list_instruments()]
    assert ids == ["jansson", "nbods", "bristol", "pedcno", "chaq", "pga"]
    assert sorted(p.stem for p in DEFINITIONS_DIR.glob("*.yaml")) == sorted(ids)


@pytest.mark.parametrize("definition", list_instruments(), ids=lambda d: d.id)
def test_each_definition_has_a_full_citation_a_certainty_and_says_what_was_not_checked(definition):
    assert isinstance(definition, InstrumentDefinition)
    assert definition.certainty in (Certainty.CONFIRMED, Certainty.REPRODUCED)
    assert re.search(r"\b(19|20)\d\d\b", definition.citation), "a citation has a year"
    assert definition.not_checked and definition.rules and definition.confirmed
    if definition.doi is not None:
        assert re.fullmatch(r"10\.\d{4,9}/\S+", definition.doi)
    for spec in definition.inputs:
        assert spec.label and spec.allowed()


@pytest.mark.parametrize("instrument_id", ["jansson", "nbods"])
def test_the_maximum_of_a_points_score_is_the_sum_of_its_items(instrument_id):
    definition = load_definition(instrument_id)
    assert definition.max_points == definition.constant("max_points")


def test_the_dois_are_those_confirmed_and_unconfirmed_ones_are_left_empty():
    assert get_instrument("jansson").doi is None
    assert get_instrument("chaq").doi is None
    assert get_instrument("nbods").doi == "10.3389/fped.2023.1067206"
    assert get_instrument("pedcno").doi == "10.1186/ar2992"
    assert get_instrument("bristol").doi == "10.1186/s12969-016-0109-1"
    assert get_instrument("pga").doi == "10.3899/jrheum.160690"


def test_the_chaq_has_30_items_in_8_domains_split_as_singh_1994():
    chaq = get_instrument("chaq")
    split = {d.id: len(d.items) for d in chaq.domains}
    assert split == {
        "dressing": 4, "arising": 2, "eating": 3, "walking": 2,
        "hygiene": 5, "reach": 4, "grip": 5, "activities": 5,
    }
    assert sum(split.values()) == 30
    for domain in chaq.domains:
        assert domain.aid_key == f"{domain.id}_aid"
        assert all(key.startswith(f"{domain.id}_") for key in domain.items)


def test_the_jansson_cut_offs_carry_their_own_certainty():
    cuts = {c.id: c.certainty for c in get_instrument("jansson").cutoffs}
    assert cuts == {
        "nbo_likely": Certainty.CONFIRMED,
        "nbo_unlikely": Certainty.REPRODUCED,
        "indeterminate": Certainty.REPRODUCED,
    }


def test_a_nbods_total_of_17_favours_bacterial_and_18_favours_nonbacterial_osteomyelitis():
    # The items cannot add up to 18 (the lowest total above 17 is 27), so the cut-off is
    # checked on the definition directly.
    nbods = get_instrument("nbods")
    assert interpret(nbods, 17).id == "favours_bo"
    assert interpret(nbods, 18).id == "favours_nbo"
    assert interpret(nbods, 17.5).id == "favours_nbo"


def test_a_definition_with_an_otherwise_cut_off_before_the_last_is_refused():
    data = get_instrument("nbods").model_dump(mode="json")
    data["cutoffs"] = list(reversed(data["cutoffs"]))
    with pytest.raises(ValueError, match="must come last"):
        InstrumentDefinition.model_validate(data)


def test_a_definition_whose_item_scores_an_unknown_input_is_refused():
    data = get_instrument("jansson").model_dump(mode="json")
    data["items"][0]["input"] = "no_such_input"
    with pytest.raises(ValueError, match="unknown input"):
        InstrumentDefinition.model_validate(data)


def test_an_item_compared_to_a_threshold_needs_one():
    data = get_instrument("jansson").model_dump(mode="json")
    data["items"][-1]["threshold"] = None
    with pytest.raises(ValueError, match="do not fit"):
        InstrumentDefinition.model_validate(data)
    assert Comparison(">=") is Comparison.GE
