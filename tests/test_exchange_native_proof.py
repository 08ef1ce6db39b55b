"""The counting proof of the native CSV reader, against the csv module.

A regular file (every record as wide as the header) is proven by counting its separators
(``csv_native._separators``) and letting Polars raise on a record with too many cells; any
other file goes to the record-by-record proof (``csv_native._irregular``) or to the csv
module. The differential property here generates mostly regular files (quoted cells with
commas, line breaks, CRLF and doubled quotes inside) and then spoils some of them in one place
(a short row, an empty line, a row of only commas, a quoted empty cell, a lone CR, a
malformed quote, a cell past the header's width at the end of the file, a BOM), so that all
three ways are taken, and compares the table and problems with the csv module path's.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_exchange_native import assert_same, natively

from cnotrack.exchange import csv_native, reader
from cnotrack.exchange.categories import code_texts
from cnotrack.exchange.reader import ROW, ReadLimits

SETTINGS = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PARTS = st.sampled_from(list('ab1 ,"\n\t') + ["\r\n", "é", "\u3000", "\x1f", "\xa0", "=", "''"])
CELL = st.lists(PARTS, max_size=4).map("".join)
SPOILS = ["none"] * 4 + ["short", "empty line", "commas", "too many commas", "quoted empty", "spaces",
                         "lone CR", "quote inside", "text after quote", "long last", "no end", "BOM",
                         "empty last line"]


def quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def plain(cell: str) -> str:
    """``cell`` as a plain (unquoted) cell: without the characters that need quotes."""
    return "".join(c for c in cell if c not in ',"\r\n')


@st.composite
def regular_files(draw) -> tuple[bytes, str]:
    """A file whose records are all as wide as the header, then spoiled in one place."""
    width = draw(st.integers(1, 4))
    quote_all = draw(st.booleans())
    rows = []
    for _ in range(draw(st.integers(1, 9))):
        cells = [draw(CELL) for _ in range(width)]
        rows.append([quoted(c) if quote_all or draw(st.booleans()) else plain(c) for c in cells])
    end = draw(st.sampled_from(["\n", "\r\n"]))
    spoil = draw(st.sampled_from(SPOILS))
    at = draw(st.integers(1, len(rows)))  # never the header
    if spoil == "short" and width > 1:
        rows.insert(at, [plain(draw(CELL)) or "x"] * draw(st.integers(1, width - 1)))
    elif spoil == "empty line":
        rows.insert(at, [])
    elif spoil == "commas":
        rows.insert(at, [""] * width)
    elif spoil == "too many commas":
        rows.insert(at, [""] * (width + draw(st.integers(1, 2))))
    elif spoil == "quoted empty":
        rows.insert(at, [quoted("")] * width if draw(st.booleans()) else [quoted("")] + ["x"] * (width - 1))
    elif spoil == "spaces":
        rows.insert(at, [draw(st.sampled_from([" ", "\t", "\u3000", "\x1f", '" "', ""])) for _ in range(width)])
    elif spoil == "long last":  # Polars cuts empty cells past the width off a last record
        rows.append([""] * (width + 1))
    text = "".join(",".join(row) + end for row in rows)
    if spoil in ("no end", "long last") or (spoil == "none" and draw(st.booleans())):
        text = text[: -len(end)]
    elif spoil == "empty last line":
        text += end
    elif spoil == "lone CR":
        place = draw(st.integers(0, len(text)))
        text = text[:place] + "\r" + text[place:]
    elif spoil == "quote inside":  # 1"5: a quote inside a plain cell
        text = text + 'x"y' + end
    elif spoil == "text after quote":  # "1"5
        text = text + '"1"5' + end
    data = text.encode("utf-8")
    if spoil == "BOM":
        data = b"\xef\xbb\xbf" + data
    return data, spoil


def paths(data: bytes, limits: ReadLimits) -> str:
    """Which way the native reader took for ``data``: by counting, record by record, or none."""
    irregular = []
    original = csv_native._irregular

    def spy(*args):
        irregular.append(True)
        return original(*args)

    with mock.patch.object(csv_native, "_irregular", spy):
        table, _ = natively(data, limits)
    if table is None:
        return "declined"
    return "record by record" if irregular else "counted"


LIMITS = st.sampled_from([reader.CLI_LIMITS] * 4 + [ReadLimits(max_rows=3), ReadLimits(max_cells=5),
                                                     ReadLimits(max_cell_chars=3)])


@SETTINGS
@given(regular_files(), LIMITS, st.sampled_from([csv_native._CHUNK, 1, 2, 3, 7, 64]))
def test_a_spoiled_regular_file_reads_as_the_csv_module_reads_it(file, limits, chunk):
    data, spoil = file
    with mock.patch.object(csv_native, "_CHUNK", chunk):
        assert_same(data, limits)
        event(f"{spoil}: {paths(data, limits)}")


def test_a_regular_file_is_proven_by_counting():
    data = ('"id","note","n"\r\n' + "".join(f'"P{i}","a, b\r\nc ""{i}""",{i}\r\n' for i in range(1000))).encode()
    assert paths(data, reader.CLI_LIMITS) == "counted"
    table, problems = natively(data)
    assert table.frame.height == 1000 and problems == []
    assert table.frame[ROW].to_list() == list(range(2, 1002))
    assert assert_same(data)


def test_files_that_counting_cannot_prove_are_read_record_by_record():
    for data in [b"a,b\n1,2\n\n3,4\n", b"a,b\n1,2\n,,\n", b"a,b\n1,2\n\n", b"a,b\n1,2\n,,", b"a,b\n,,\n1,2\n"]:
        assert paths(data, reader.CLI_LIMITS) == "record by record", data
        assert assert_same(data)


def test_a_last_record_with_cells_past_the_header_is_never_cut():
    # Polars reads "a\n,," as [a, null] and [null, null] without raising: the count balances
    for data in [b"h1,h2\na\n,,", b"h1,h2\r\na\r\n,,", b'h1,h2\na\n"",,']:
        assert paths(data, reader.CLI_LIMITS) != "counted", data
        assert_same(data)


def test_a_row_limit_is_left_to_the_record_by_record_proof():
    data = ("a,b\n" + "".join(f"{i},x\n" for i in range(20))).encode()
    assert paths(data, ReadLimits(max_rows=5)) == "record by record"
    assert assert_same(data, ReadLimits(max_rows=5))


def test_line_ends_hold_only_when_every_carriage_return_starts_a_crlf():
    hold = csv_native._line_ends_hold
    assert hold(b"a\r\nb\r\n") and hold(b"a\nb") and hold(b"\r\n") and hold(b"x\r\n\r\n")
    assert not hold(b"a\rb") and not hold(b"a\r") and not hold(b"\r") and not hold(b"a\r\r\n")
    assert not hold(b"a\n\x00")
    for chunk in [1, 2, 3]:
        with mock.patch.object(csv_native, "_CHUNK", chunk):
            assert hold(b"ab\r\ncd\r\n") and not hold(b"ab\r\ncd\re\n") and not hold(b"a\r\r\n")


def test_the_separating_line_feeds_are_those_outside_quoted_cells():
    for chunk in [csv_native._CHUNK, 1, 2, 5]:
        with mock.patch.object(csv_native, "_CHUNK", chunk):
            seps = csv_native._separators(b'a,"b,\n"\n"x""\n,",y\n1,2')
            # every comma counts (those inside quoted cells are counted on Polars' cells)
            assert (seps.commas, seps.lines, seps.quoted, seps.header_end, seps.last_start) == (5, 2, True, 7, 18)
            assert csv_native._separators(b"a,b\n1,2\n") == csv_native._Separators(2, 2, False, 3, 8)
            assert csv_native._separators(b'a,"b\n') is None
            assert csv_native._separators(b'a,b"c"\n') is None


def old_category_texts(column: pl.Series) -> pl.Series:
    """The former definition: the distinct cells scattered to their codes."""
    distinct = column.drop_nulls().unique()
    codes = distinct.to_physical()
    size = max(column.dtype.categories._categories.num_cats_upper_bound(),
               int(codes.max()) + 1 if codes.len() else 0)
    texts = pl.Series(column.name, [None] * size, dtype=pl.String)
    return texts.scatter(codes, distinct.cast(pl.String)) if codes.len() else texts


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "b", "é", " x", "P1"])), max_size=30),
       st.lists(st.booleans(), max_size=30))
def test_code_texts_give_each_held_code_its_text(cells, keep):
    column = pl.Series("c", cells, dtype=pl.String).cast(pl.Categorical(pl.Categories.random()))
    if keep:
        column = column.filter(pl.Series((keep * 30)[: len(cells)], dtype=pl.Boolean))
    texts = code_texts(column)
    assert texts.name == "c" and texts.dtype == pl.String
    old = old_category_texts(column)
    held = np.flatnonzero(old.is_not_null().to_numpy())
    assert texts.gather(held).to_list() == old.gather(held).to_list()
    # every cell's text is its code's text
    assert texts.gather(column.to_physical().drop_nulls()).to_list() == column.drop_nulls().cast(pl.String).to_list()


def old_utf8_content(data: bytes) -> bool | None:
    """The former definition: the whole file decoded, then stripped."""
    try:
        return bool(data.decode("utf-8-sig").strip())
    except UnicodeDecodeError:
        return None


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.binary(max_size=40),
                 st.lists(st.sampled_from([" ", "\t", "\r\n", "\x1c", "\x1f", "\x0b", "a", ",", "é", "\u3000",
                                           "\ufeff", "\x85"]), max_size=20).map(lambda p: "".join(p).encode()),
                 st.sampled_from([b" " * 5000, b" " * 5000 + b"x", b"\xef\xbb\xbf" + b"\x1d" * 5000,
                                  b"\x1f" * 4096 + b"\xff", b"a" * 4096 + b"\xff"])))
def test_the_utf8_check_says_what_decoding_the_whole_file_says(data):
    assert reader._utf8_content(data) == old_utf8_content(data)
    with mock.patch.object(reader, "_DECODE_CHUNK", 3):  # a character split across chunks
        assert reader._utf8_content(data) == old_utf8_content(data)


def test_the_digest_of_each_file_is_its_sha256(tmp_path):
    import hashlib

    (tmp_path / "patients.csv").write_bytes(b"patient_id\nP1\n" * 1000)
    (tmp_path / "labs.csv").write_bytes(b"\xff")
    raw, tables = reader.open_dataset(tmp_path)
    list(tables)
    assert raw.sha256 == {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
                          for name in ["labs.csv", "patients.csv"]}
