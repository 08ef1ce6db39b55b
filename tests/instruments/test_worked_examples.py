"""Every worked example in worked_examples.yaml gives its expected result, and every refused
input gives an error that names the key, the bad value, what is allowed and the fix.

Each example is run as the command line would run it: ``cnotrack score NAME key=value ...``
split into strings and handed to ``cnotrack.instruments.score``.
"""

from __future__ import annotations

import pytest

from cnotrack.errors import CnotrackError, InstrumentInputError

import _worked_examples as worked

EXAMPLES = worked.examples()
ERRORS = worked.error_examples()


def _ids(cases):
    return [case["id"] for case in cases]


def test_every_instrument_has_at_least_three_worked_examples_and_one_in_the_docs():
    from cnotrack.instruments import list_instruments

    for definition in list_instruments():
        mine = [e for e in EXAMPLES if e["instrument"] == definition.id]
        assert len(mine) >= 3, definition.id
        assert any(e.get("docs") for e in mine), definition.id


def test_worked_example_ids_are_unique():
    ids = _ids(EXAMPLES) + _ids(ERRORS)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids(EXAMPLES))
def test_each_worked_example_gives_its_expected_result(example):
    result = worked.run(example).as_json()
    expect = example["expect"]
    if "score" in expect:
        if expect["score"] is None:
            assert result["score"] is None
        else:
            assert result["score"] == pytest.approx(expect["score"], abs=5e-4)
    if "interpretation" in expect:
        assert result["interpretation"] == expect["interpretation"]
    points = {item["input"]: item["points"] for item in result["items"]}
    for key, value in expect.get("points", {}).items():
        assert points[key] == value, key
    for key, value in expect.get("extra", {}).items():
        assert result[key] == value, key


@pytest.mark.parametrize("example", ERRORS, ids=_ids(ERRORS))
def test_each_refused_input_raises_an_error_that_says_what_is_wrong_and_how_to_fix_it(example):
    with pytest.raises(InstrumentInputError) as caught:
        worked.run(example)
    message = str(caught.value)
    for words in example["message_contains"]:
        assert words in message
    assert isinstance(caught.value, CnotrackError)
