"""Polars' native CSV reader against the csv module: for any text, the native path either
declines or gives exactly the table (cells, row numbers, header) and the problems of the csv
module path.

The csv module path is the reference (``reader._parse_csv_slowly``, strict, the excel
dialect); ``csv_native.read_csv_natively`` is tried first on every file. A differential
property test generates CSV texts with quotes, doubled quotes, commas and line breaks inside
quoted cells, CRLF and LF mixed, blank rows and rows of empty cells, ragged rows, malformed
quotes, a BOM, unicode (whitespace that Python and Rust disagree on, too) and small read
limits, and compares the two paths cell for cell.
"""

from __future__ import annotations

import sys
from unittest import mock

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cnotrack.exchange import csv_native, reader
from cnotrack.exchange.categories import code_texts
from cnotrack.exchange.reader import ROW, ReadLimits

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CELL_PARTS = st.sampled_from(list('ab1a ,"\n\t') + ["\r\n", "é", "\u3000", "\x1f", "\xa0", "\ufeff", "\U0001f600",
                                                    "'", "="])
CELLS = st.lists(CELL_PARTS, max_size=5).map("".join)


def read(data: bytes, limits: ReadLimits, *, native: bool):
    """``reader._parse_csv`` of ``data``, with or without the native path: (table, problems,
    whether the native path read it)."""
    problems: list = []
    original = csv_native.read_csv_natively
    used = []

    def spy(*args):
        table = original(*args) if native else None
        used.append(table is not None)
        return table

    with mock.patch.object(csv_native, "read_csv_natively", spy):
        table = reader._parse_csv("t.csv", "t", data, problems, limits)
    return table, problems, any(used)


def natively(data: bytes, limits: ReadLimits = reader.CLI_LIMITS):
    problems: list = []
    return csv_native.read_csv_natively("t.csv", "t", data.removeprefix(b"\xef\xbb\xbf"), problems, limits), problems


def assert_same(data: bytes, limits: ReadLimits = reader.CLI_LIMITS) -> bool:
    """The two paths agree on ``data`` (table and problems); True when the native path read it."""
    slow, slow_problems, _ = read(data, limits, native=False)
    fast, fast_problems, used = read(data, limits, native=True)
    assert fast_problems == slow_problems
    assert (fast is None) == (slow is None)
    if fast is not None:
        assert fast.header == slow.header
        # the native reader's columns are categoricals of the same texts
        assert as_text(fast.frame).schema == slow.frame.schema
        assert fast.frame.to_dict(as_series=False) == slow.frame.to_dict(as_series=False)
        assert (fast.name, fast.source, fast.escaped) == (slow.name, slow.source, slow.escaped)
        # the texts the reader hands to typing are those of the columns' codes, column by column
        for column, texts in fast.texts.items():
            assert texts.equals(code_texts(fast.frame.get_column(column)), check_names=False)
    return used


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


def quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def csv_texts(draw) -> bytes:
    width = draw(st.integers(1, 4))
    rows = []
    for r in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["row"] * 6 + ["blank", "commas", "short", "long", "spaces"]))
        if r == 0 or kind == "row":
            cells = [draw(CELLS) for _ in range(width)]
        elif kind == "blank":
            cells = []
        elif kind == "commas":
            cells = [""] * width
        elif kind == "spaces":
            cells = [draw(st.sampled_from([" ", "\t", "\u3000", "\x1f", "\xa0", ""])) for _ in range(width)]
        else:
            n = draw(st.integers(0, width - 1)) if kind == "short" else width + draw(st.integers(1, 2))
            cells = [draw(st.sampled_from(["", "x", " "])) for _ in range(n)]
        style = draw(st.sampled_from(["quote", "quote", "quote", "raw", "mixed"]))
        out = []
        for cell in cells:
            if style == "quote" or (style == "mixed" and draw(st.booleans())):
                out.append(quoted(cell))
            else:
                out.append(cell)  # raw: a quote, comma or line break in it breaks the row's shape
        rows.append(",".join(out))
    ends = [draw(st.sampled_from(["\n", "\r\n"])) for _ in rows]
    text = "".join(row + end for row, end in zip(rows, ends))
    if draw(st.booleans()):
        text = text[: -len(ends[-1])]  # no line end after the last row
    if draw(st.integers(0, 9)) == 0:  # a stray character somewhere: a malformed quote, a lone CR
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', "\r", ",", "\n", "\x00"])) + text[at:]
    data = text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if draw(st.booleans()) else data


LIMITS = st.sampled_from([reader.CLI_LIMITS, ReadLimits(max_rows=3), ReadLimits(max_cells=5),
                          ReadLimits(max_cell_chars=3), ReadLimits(max_columns=2)])


@SETTINGS
@given(csv_texts(), LIMITS, st.sampled_from([csv_native._CHUNK, 1, 3, 7, 64]))
def test_the_native_reader_declines_or_reads_exactly_as_the_csv_module(data, limits, chunk):
    # small chunks put the NumPy passes' chunk boundaries inside quotes and records
    with mock.patch.object(csv_native, "_CHUNK", chunk):
        event("native" if assert_same(data, limits) else "declined")


@SETTINGS
@given(st.lists(st.sampled_from(list('a ,"\n') + ["\r\n"]), max_size=30).map("".join))
def test_any_text_of_quotes_commas_and_line_ends_reads_alike(text):
    if text.strip():
        assert_same(("h1,h2\n" + text).encode())


def test_a_registry_export_is_read_natively():
    """Quoted cells, CRLF, doubled quotes, a line break inside a cell, blank rows, a BOM."""
    data = ('\ufeff"patient_id","center","note"\r\n"P1","Genoa ""G.""","two\r\nlines"\r\n\r\n'
            ',,\r\n"P2",,"x, y"\r\n"","",""\r\nP3,Rome,\r\n').encode()
    table, problems = natively(data)
    assert table is not None and problems == []
    assert table.frame.rows() == [("P1", 'Genoa "G."', "two\r\nlines", 2), ("P2", None, "x, y", 5),
                                  ("P3", "Rome", None, 7)]
    assert assert_same(data)


def test_a_multi_line_cell_keeps_one_row_number_and_the_rows_after_it_count_records():
    data = b'a,b\n1,"x\ny\nz"\n2,w\n'
    table, _ = natively(data)
    assert table.frame[ROW].to_list() == [2, 3]


def test_files_the_csv_module_reports_are_left_to_it():
    for data in [b'a,b\n1,"2"3\n', b'a,b\n1,2,3\n', b'a,b\n1\n', b'a,b\n"1,2\n', b'a,b\n1,x"y\n',
                 b'a,b\r1,2\r', b'a,b\n1,\x002\n', b'\na,b\n1,2\n']:
        assert natively(data)[0] is None, data
        assert_same(data)


def test_a_large_file_with_line_breaks_in_quotes_reads_alike_across_polars_chunks():
    rows = [f'"P{i}","line one\r\nline ""{i}""",{i % 7},"a,b"\r\n' + ("\r\n" if i % 997 == 0 else "")
            for i in range(120_000)]
    data = ('"id","note","n","pair"\r\n' + "".join(rows)).encode()
    table, problems = natively(data)
    assert table is not None and table.frame.height == 120_000 and problems == []
    assert table.frame[ROW][-1] == 120_001 + 120_000 // 997 + 1
    assert assert_same(data)


def test_a_row_limit_stops_the_native_reading_where_the_csv_module_stops():
    data = ("a,b\r\n" + "".join(f'"{i}","x"\r\n' for i in range(50))).encode()
    table, problems = natively(data, ReadLimits(max_rows=10))
    assert table.frame.height == 10 and [p.row for p in problems] == [12]
    assert assert_same(data, ReadLimits(max_rows=10))


def test_python_whitespace_is_what_str_strip_removes():
    assert set(csv_native.PYTHON_WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


def test_a_long_cell_is_a_problem_of_its_row_and_column_on_both_paths():
    data = ("a,b\n" + "x,y\n" + f'"{"z" * 40}",w\n' + f'v,{"q" * 50}\n').encode()
    table, problems = natively(data, ReadLimits(max_cell_chars=30))
    assert [(p.row, p.column) for p in problems] == [(3, "a"), (4, "b")]
    assert assert_same(data, ReadLimits(max_cell_chars=30))


def test_the_native_table_has_string_columns_named_by_position():
    table, _ = natively(b'x,x,\n1,2,3\n')
    assert table.header == ["x", "x", ""]
    assert list(table.frame.columns) == ["column 1", "column 2", "column 3", ROW]
    assert as_text(table.frame).schema == pl.Schema({"column 1": pl.String, "column 2": pl.String,
                                                     "column 3": pl.String, ROW: pl.Int64})
    # each column's categories are its own (none shared, none global)
    categories = {table.frame.schema[c].categories.name() for c in ["column 1", "column 2", "column 3"]}
    assert len(categories) == 3
