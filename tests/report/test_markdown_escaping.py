"""Issue 9, item 10 (the Markdown half): identifiers and any text from a dataset or a protocol are
escaped in Markdown output, so that each shows as literal text in exactly its place.

Checked with a real CommonMark parser (markdown-it-py, with GitHub's tables and strikethrough
and raw HTML allowed, as a careless viewer would render it): a table keeps its cells, and no
text becomes HTML, a link, code, emphasis, a heading, a list or a quote. The HTML report
(Jinja2's autoescape) and the Word document are checked with the same hostile identifiers.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import polars as pl

import pytest
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from cnotrack.engine import evaluate
from cnotrack.exchange import Dataset
from cnotrack.exchange.dataset import empty_table
from cnotrack.protocols import load_protocol
from cnotrack.render import evaluation_markdown
from cnotrack.render.escape import markdown_code, markdown_text
from cnotrack.render.markdown import _table
from cnotrack.report import build_report, report_bytes


PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

HOSTILE = [
    "P|01", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "`code`", "``x``",
    "[x](javascript:alert(1))", "![i](http://evil/x.png)", "*em* _em_ **b** ~~s~~", "# heading",
    "- item", "+ item", "> quote", "1. first", "2) second", "&amp; &#60; &lt;", "a\\|b", "line\nbreak",
    "cr\r\nlf", "<http://evil>", "trailing\\", "===", "---", "***", "a [ref]: /x", "{{ jinja }}",
    "=HYPERLINK(\"x\")", "@cmd", "<!-- comment -->", "\\", "|", "a||b",
]

TEXT = st.text(alphabet=st.sampled_from(list("ab01 |\\`*_[]()<>&#!-+=.:;~/\"'{}\n\r") + ["é", "ß", "中"]),
               max_size=24)


def literal(value: str) -> str:
    """What the reader must see: the text, a line break as a space, trimmed as a cell is."""
    return re.sub(r"\r\n?|\n", " ", value).strip(" ")


def inline_texts(tokens) -> list[tuple[str, str]]:
    """(enclosing cell tag, text) for each inline token; asserts it holds nothing but text."""
    out, tag = [], ""
    for token in tokens:
        if token.type in ("th_open", "td_open", "paragraph_open", "heading_open"):
            tag = token.tag
        if token.type == "inline":
            kinds = {child.type for child in token.children or []}
            assert kinds <= {"text"}, (token.content, kinds)
            out.append((tag, "".join(child.content for child in token.children or [])))
    return out


def table_cells(markdown: str) -> list[list[str]]:
    """The rows of the one table in ``markdown`` as the parser reads them, header first."""
    tokens = PARSER.parse(markdown)
    assert not [t for t in tokens if t.type in ("html_block", "code_block", "fence", "blockquote_open",
                                                "bullet_list_open", "ordered_list_open", "heading_open", "hr")]
    rows, row = [], None
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            kinds = {child.type for child in token.children or []}
            assert kinds <= {"text"}, (token.content, kinds)
            row.append("".join(child.content for child in token.children or []))
        elif token.type == "tr_close":
            rows.append(row)
            row = None
    return rows


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(TEXT, min_size=3, max_size=3), min_size=1, max_size=4), st.lists(TEXT, min_size=3, max_size=3))
def test_any_text_in_a_markdown_table_is_literal_text_in_exactly_its_cell(rows, header):
    parsed = table_cells(_table(header, rows))
    assert parsed == [[literal(c) for c in header]] + [[literal(c) for c in row] for row in rows]


@settings(max_examples=300, deadline=None)
@given(TEXT.filter(lambda t: literal(t) != ""))
def test_any_text_is_literal_in_a_paragraph_a_heading_and_a_list_item(value):
    for markdown, tag in ((markdown_text(value), "p"), (f"# {markdown_text(value)}", "h1"),
                          (f"- {markdown_text(value)}", "p")):
        tokens = PARSER.parse(markdown)
        assert not [t for t in tokens if t.type in ("html_block", "code_block", "fence", "blockquote_open", "hr",
                                                    "ordered_list_open")]
        assert [t.type for t in tokens if t.type.endswith("list_open")] == (
            ["bullet_list_open"] if markdown.startswith("- ") else [])
        assert inline_texts(tokens) == [(tag, literal(value))], markdown


def test_an_identifier_shown_as_code_is_code_only_when_it_is_safe():
    assert markdown_code("pardeo2017") == "`pardeo2017`"
    for hostile in ("a`b", "a|b", "a\nb", " a"):
        assert not markdown_code(hostile).startswith("`")


# --------------------------------------------------------------------------- whole reports

def typed_table(name: str, columns: dict[str, list]) -> pl.DataFrame:
    """A table of the format with ``columns`` filled and every other column empty."""
    schema = empty_table(name).schema
    frame = pl.DataFrame(columns)
    return frame.select([pl.col(c).cast(t) if c in columns else pl.lit(None, dtype=t).alias(c)
                         for c, t in schema.items()])


@pytest.fixture
def hostile_dataset():
    """Patients whose identifiers and centers are Markdown and HTML, each with a treatment (built
    as a typed dataset: the identifiers are valid, and this test is about the output)."""
    ids = [h for h in HOSTILE if "\n" not in h and "\r" not in h and h.strip() == h and h]
    data = Dataset({
        "patients": typed_table("patients", {"patient_id": ids, "sex": ["F"] * len(ids),
                                             "center": [f"<b>{pid}</b>" for pid in ids]}),
        "treatments": typed_table("treatments", {"patient_id": ids, "drug": ["naproxen"] * len(ids),
                                                 "start_date": [dt.date(2019, 1, 1)] * len(ids)}),
    })
    return data, ids


def test_hostile_patient_ids_are_literal_cells_of_the_markdown_reports(hostile_dataset):
    data, ids = hostile_dataset
    data.source = "a `label` | with <html> & [link](javascript:x)"
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    for markdown in (evaluation_markdown(evaluation), report_bytes(build_report(evaluation, data), ".md").decode()):
        tokens = PARSER.parse(markdown)
        assert not [t for t in tokens if t.type == "html_block"]
        cells, texts = [], []
        for token in tokens:
            if token.type == "inline":
                kinds = {child.type for child in token.children or []}
                assert not kinds & {"html_inline", "link_open", "image"}, (token.content, kinds)
                texts.append("".join(child.content for child in token.children or []))
                if not kinds - {"text"}:
                    cells.append("".join(child.content for child in token.children or []))
        for pid in ids:
            assert pid in cells, f"{pid!r} is not a literal cell"
        assert any("dataset a `label` | with <html> & [link](javascript:x) (SHA-256" in t for t in texts)


def test_hostile_patient_ids_are_escaped_in_the_html_report_and_literal_in_the_word_document(hostile_dataset):
    data, ids = hostile_dataset
    evaluation = evaluate(data, load_protocol("pardeo2017"))
    built = build_report(evaluation, data)
    html = report_bytes(built, ".html").decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html and "<b><" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    document = Document(io.BytesIO(report_bytes(built, ".docx")))
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    for pid in ids:
        assert pid in cells, f"{pid!r} is not a cell of the Word document"
    with zipfile.ZipFile(io.BytesIO(report_bytes(built, ".docx"))) as book:
        body = book.read("word/document.xml").decode()
    assert "<script>" not in body and "&lt;script&gt;" in body
