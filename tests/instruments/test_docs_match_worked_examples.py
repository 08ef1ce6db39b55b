"""docs/instruments.md shows exactly the definitions and worked examples the tests check."""

from __future__ import annotations

import _worked_examples as worked

from cnotrack.instruments import list_instruments


def test_the_instruments_doc_is_generated_from_the_definitions_and_worked_examples():
    expected = worked.render_docs()
    actual = worked.DOCS_FILE.read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/instruments.md differs from the data; regenerate it with "
        "PYTHONPATH=src .venv/bin/python tests/instruments/_worked_examples.py --write"
    )


def test_the_doc_shows_each_documented_example_as_a_command_line_and_its_output():
    text = worked.DOCS_FILE.read_text(encoding="utf-8")
    shown = [e for e in worked.examples() if e.get("docs")]
    assert shown
    for example in shown:
        assert f"$ {worked.command_line(example)}\n{worked.run(example).to_text()}\n```" in text


def test_the_doc_gives_each_instrument_its_citation_certainty_and_what_was_not_checked():
    text = worked.DOCS_FILE.read_text(encoding="utf-8")
    for definition in list_instruments():
        assert definition.citation in text
        assert f"**Certainty: {definition.certainty.value}.**" in text
        for line in definition.not_checked:
            assert line in text
