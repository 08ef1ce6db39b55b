"""PDF pages: no table split across pages by a few rows, and no nearly empty page (Table 1 of
the demo left one before the print styles kept the rows of a split table together).

Checked on the text of each page (poppler's ``pdftotext -layout``; pdfplumber is not installed):
the rows of a table are the lines that start with its first cell."""

from __future__ import annotations

import re

import pytest

from .conftest import require_tool, run

MIN_ROWS = 4        # a table split across pages keeps at least this many rows on each page
MIN_LINES = 6       # a page holds at least this many lines besides its banner and footer


@pytest.fixture(scope="session")
def page_lines(pdf_path) -> list[list[str]]:
    text = run(require_tool("pdftotext"), "-layout", str(pdf_path), "-").stdout
    pages = [page for page in text.split("\f") if page.strip()]
    furniture = ("SYNTHETIC DATA", "2017 (n = 9); these are not real patients", "cnotrack supports research")
    return [[line.strip() for line in page.splitlines()
             if line.strip() and not any(f in line for f in furniture)] for page in pages]


_CELLS = re.compile(r"(\S.*?)\s{2,}(\S+)")


def _is_row(line: str, row: tuple[str, ...]) -> bool:
    """Whether ``line`` is the (first line of the) row: its first cell (or the start of it, when
    wrapped), two or more spaces, then the start of its second cell."""
    cells = _CELLS.match(line)
    return bool(cells) and row[0].startswith(cells.group(1)) and len(cells.group(1)) >= min(4, len(row[0])) \
        and row[1].split()[:1] == [cells.group(2)]


def _rows_per_page(table, page_lines) -> list[int]:
    return [sum(any(_is_row(line, row) for row in table.rows) for line in lines) for lines in page_lines]


def test_no_table_is_split_across_pdf_pages_by_a_few_rows(report, page_lines):
    tables = [t for t in (report.table_one, report.outcomes_table(), report.completeness, report.excluded,
                          report.reference_limits) if t is not None]
    assert report.table_one is not None and len(report.table_one.rows) > 20   # the long table of the demo
    for table in tables:
        counts = [c for c in _rows_per_page(table, page_lines) if c]
        assert counts, table.title
        if len(counts) > 1:
            assert min(counts) >= MIN_ROWS, f"{table.title}: rows per page {counts}"


def test_no_pdf_page_is_nearly_empty(page_lines):
    for number, lines in enumerate(page_lines, 1):
        assert len(lines) >= MIN_LINES, f"page {number} holds only {lines}"


def test_a_table_title_is_on_the_page_of_its_first_rows(report, page_lines):
    table = report.table_one
    counts = _rows_per_page(table, page_lines)
    first = next(i for i, c in enumerate(counts) if c)
    assert any(line.startswith(table.title[:40]) for line in page_lines[first])
