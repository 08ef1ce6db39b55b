"""Inputs as a command line gives them: key=value strings, booleans in any spelling, numbers."""

from __future__ import annotations

import pytest

from cnotrack.errors import InstrumentInputError
from cnotrack.instruments import parse_key_value_args, score
from cnotrack.instruments._inputs import parse_boolean

NBODS = {"crp_mg_l": "20", "multifocal": "yes", "femur": "no", "band_neutrophils_per_ul": "150"}


@pytest.mark.parametrize("word", ["yes", "YES", "Yes", "y", "Y", "true", "True", "TRUE", "1", " yes "])
def test_each_spelling_of_yes_is_read_as_true(word):
    assert parse_boolean(word) is True


@pytest.mark.parametrize("word", ["no", "NO", "n", "N", "false", "False", "0"])
def test_each_spelling_of_no_is_read_as_false(word):
    assert parse_boolean(word) is False


@pytest.mark.parametrize("word", ["maybe", "2", "", "oui", "t", "f"])
def test_other_words_are_not_booleans(word):
    with pytest.raises(ValueError):
        parse_boolean(word)


def test_key_value_arguments_become_a_dict_of_strings():
    assert parse_key_value_args(["crp_mg_l=12", "femur = no"]) == {"crp_mg_l": "12", "femur": "no"}


def test_an_argument_without_equals_sign_is_refused_with_the_form_to_use():
    with pytest.raises(InstrumentInputError, match="not of the form key=value"):
        parse_key_value_args(["crp_mg_l", "femur=no"])


def test_a_key_given_twice_is_refused():
    with pytest.raises(InstrumentInputError, match="given twice"):
        parse_key_value_args(["femur=no", "femur=yes"])


def test_an_empty_value_counts_as_missing():
    with pytest.raises(InstrumentInputError, match="missing required input: femur"):
        score("nbods", {**NBODS, "femur": ""})


def test_a_number_written_with_a_decimal_point_or_exponent_is_read():
    assert score("nbods", {**NBODS, "crp_mg_l": "5.5e1"}).score == 98  # 55 mg/L
    assert score("nbods", {**NBODS, "crp_mg_l": "55.0"}).score == 98


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "12 mg/L"])
def test_not_a_finite_number_is_refused(bad):
    with pytest.raises(InstrumentInputError, match=f"crp_mg_l={bad}"):
        score("nbods", {**NBODS, "crp_mg_l": bad})


def test_a_python_bool_is_not_taken_as_a_number():
    with pytest.raises(InstrumentInputError, match="crp_mg_l=True"):
        score("nbods", {**NBODS, "crp_mg_l": True})


def test_several_problems_are_reported_together():
    with pytest.raises(InstrumentInputError) as caught:
        score("nbods", {"crp_mg_l": "-1", "multifocal": "perhaps", "band_neutrophils_per_ul": "3"})
    message = str(caught.value)
    assert "missing required input: femur" in message
    assert "crp_mg_l=-1" in message
    assert "multifocal=perhaps" in message


def test_several_unknown_keys_are_all_named():
    with pytest.raises(InstrumentInputError) as caught:
        score("nbods", {**NBODS, "fever": "yes", "age": "7"})
    assert "unknown input keys" in str(caught.value)
    assert "'fever'" in str(caught.value) and "'age'" in str(caught.value)
