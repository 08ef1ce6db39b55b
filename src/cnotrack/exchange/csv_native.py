"""Polars' native CSV reader, for a file proven to read exactly as the csv module reads it.

The csv module (``strict``, the ``excel`` dialect) is the reference: it reports a malformed
quote, a ragged row, a blank row, each with the row number a spreadsheet shows. Polars reads
quoted cells, doubled quotes, line breaks inside quotes and CRLF line ends at native speed,
but it is lenient where the csv module is strict (a row with too few cells is padded with
nulls, ``"1"5`` is read as some text). So before Polars reads a file, its shape is proven with
a few vectorised passes over its bytes (NumPy, no Python loop over rows or cells):

- no NUL byte, and a carriage return only as part of CRLF (as many CRLF pairs as carriage
  returns, counted on the bytes read as 16-bit words at both alignments);
- the quotes are well formed: counting quotes from the start of the file, an opening quote
  (one preceded by an even number of quotes) starts a cell (it follows the start of the file,
  a comma, a line feed, or the closing quote of a doubled ``""``), a closing quote ends one (a
  comma, CR, LF, the end of the file or the opening quote of a doubled ``""`` follows it), and
  the count is even at the end. Then a comma or a line feed is a separator exactly when an
  even number of quotes precede it, as in the csv module's state machine. A file without a
  quote needs none of this: every comma and line feed separates;
- the records are the runs between separating line feeds (a line break inside a quoted cell
  stays in the cell, and the record keeps one row number, as a spreadsheet gives it).

A regular file (the registry's exports) is proven by counting alone: when the separating
commas (the file's commas less those inside cells, counted on the distinct texts of Polars'
cells) number the header's width less one times the records, and Polars (asked to raise on a
record with too many cells) reads it without error and with one row per record, no record has
fewer cells either, so Polars padded none. A last record without a line end is counted on its
own (Polars cuts empty cells past the header's width off it rather than raising). Any other
file (an empty line, a row of too few or too many cells, a row limit passed) is proven record
by record: where each record ends and how many separating commas it holds; each record has
as many cells as the header, or is a row the csv module skips (no cell with more than
whitespace), checked on Polars' own (padded) cells, and by the csv module for the rare record
with too many cells.

Polars reads each column as a categorical with categories of its own (a code per cell, a
quarter of the memory of a string view; typing works on the distinct texts anyway). A file
that fails the proof returns ``None`` and is read by the csv module, which reports its
problems. The row numbers are the records' numbers (header = 1, blank rows counted), the row
limits of ``ReadLimits`` stop the reading where the csv module's loop stops it, and a long
cell is a problem of its row and column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..errors import Problem
from .categories import code_texts
from .reader import (
    ROW, RawTable, ReadLimits, column_letter, frame_columns, long_cell_problem, over_row_limits,
)

__all__ = ["PYTHON_WHITESPACE", "RecordShape", "read_csv_natively", "record_shape"]

#: the characters ``str.strip()`` removes (``str.isspace``), which differ from Rust's whitespace
#: (the information separators U+001C..U+001F are Python whitespace only)
PYTHON_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                     "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13
_CRLF = 0x0A0D  # the bytes CR LF read as one little-endian 16-bit word
# bytes per NumPy pass: a megabyte stays in the processor's cache, and bounds the memory of the
# position arrays (a few MB)
_CHUNK = 1 << 20
_MAX_LONG_RECORDS = 1_000  # records with too many cells, checked one by one (blank ones only)


def _count(values: np.ndarray, value: int) -> int:
    """How many of ``values`` equal ``value``, a chunk at a time."""
    return sum(int(np.count_nonzero(values[start:start + _CHUNK] == value))
               for start in range(0, values.size, _CHUNK))


def _line_ends_hold(data: bytes) -> bool:
    """No NUL byte, and each carriage return followed by a line feed (as the csv module reads
    a lone CR as a line end, and Polars does not)."""
    if b"\x00" in data:
        return False
    returns = _count(np.frombuffer(data, dtype=np.uint8), _CR)
    if not returns:
        return True
    if data[-1] == _CR:
        return False
    # each CR LF pair starts at an even or at an odd offset: one of the two word views holds it
    even = np.frombuffer(data, dtype="<u2", count=len(data) // 2)
    odd = np.frombuffer(data, dtype="<u2", count=(len(data) - 1) // 2, offset=1)
    return _count(even, _CRLF) + _count(odd, _CRLF) == returns


#: the bytes that may come before a quote opening a cell, and after one closing it
_OPENS_AFTER = np.isin(np.arange(256), [_COMMA, _LF, _QUOTE])
_CLOSES_BEFORE = np.isin(np.arange(256), [_COMMA, _LF, _CR, _QUOTE])


def _quotes_hold(arr: np.ndarray, quotes: np.ndarray, quotes_before: int) -> bool:
    """Whether the quotes at the positions ``quotes`` of ``arr`` (after ``quotes_before`` others)
    open and close cells as the module says."""
    first = quotes_before & 1  # 0: the first of them opens a cell
    opening, closing = quotes[first::2], quotes[1 - first::2]
    if opening.size and opening[0] == 0:
        opening = opening[1:]  # the file's first byte
    if closing.size and closing[-1] == arr.size - 1:
        closing = closing[:-1]  # the file's last byte
    return bool(_OPENS_AFTER[arr[opening - 1]].all() and _CLOSES_BEFORE[arr[closing + 1]].all())


def _outside(quotes: np.ndarray, positions: np.ndarray, quotes_before: int) -> np.ndarray:
    """Which of ``positions`` lie outside quoted cells (an even number of quotes before them)."""
    return ((np.searchsorted(quotes, positions) + quotes_before) & 1) == 0


@dataclass(frozen=True)
class _Separators:
    """How many commas a file holds (inside quoted cells too) and how many separating line
    feeds, whether it has a quote at all, where its first record (the header) ends and where
    its last record starts."""

    commas: int
    lines: int
    quoted: bool
    header_end: int
    last_start: int


def _separators(data: bytes) -> _Separators | None:
    """The separators of ``data`` when its quotes are well formed (see the module), else None.

    The commas inside quoted cells are counted on Polars' cells, which hold them (a pass over
    the few distinct texts), not here: a position per comma and its quote count would cost a
    file of quoted cells far more."""
    arr = np.frombuffer(data, dtype=np.uint8)
    size = arr.size
    if b'"' not in data:  # every comma and line feed separates
        first = data.find(b"\n")
        return _Separators(_count(arr, _COMMA), _count(arr, _LF), False, size if first < 0 else first,
                           data.rfind(b"\n") + 1)
    quotes_before = commas = lines = last_start = 0
    header_end = size
    for start in range(0, size, _CHUNK):
        part = arr[start:start + _CHUNK]
        quotes = np.flatnonzero(part == _QUOTE) + start
        if quotes.size and not _quotes_hold(arr, quotes, quotes_before):
            return None
        line_ends = np.flatnonzero(part == _LF) + start
        if quotes.size:
            line_ends = line_ends[_outside(quotes, line_ends, quotes_before)]
        elif quotes_before & 1:
            line_ends = line_ends[:0]  # the whole chunk is inside a quoted cell
        commas += int(np.count_nonzero(part == _COMMA))
        if line_ends.size:
            header_end = min(header_end, int(line_ends[0]))
            last_start = int(line_ends[-1]) + 1
        lines += line_ends.size
        quotes_before += quotes.size
    if quotes_before & 1:
        return None  # a quoted cell that never ends
    return _Separators(commas, lines, True, header_end, last_start)


@dataclass(frozen=True)
class RecordShape:
    """Where each record ends (the separating line feed, or the file's end) and how many
    separators (commas, or the ``separator`` asked for) it holds outside quoted cells."""

    ends: np.ndarray
    commas: np.ndarray


def record_shape(data: bytes, *, separator: int = _COMMA, quotes_must_hold: bool = True) -> RecordShape | None:
    """The records of ``data`` (whose line ends hold) when its quotes are well formed (see the
    module), else None. ``separator`` is the byte that separates cells; with
    ``quotes_must_hold=False`` a quote is not checked to open or close a cell (a reader that
    parsed the file already only wants the count), and None means a quoted cell never ends."""
    arr = np.frombuffer(data, dtype=np.uint8)
    size = arr.size
    quotes_before = 0   # quotes before the chunk: their parity says whether it starts in a quote
    pending = 0         # separating commas since the last separating line feed
    ends: list[np.ndarray] = []
    commas: list[np.ndarray] = []
    for start in range(0, size, _CHUNK):
        part = arr[start:start + _CHUNK]
        quotes = np.flatnonzero(part == _QUOTE) + start
        separators = np.flatnonzero((part == separator) | (part == _LF)) + start
        if quotes.size:
            if quotes_must_hold and not _quotes_hold(arr, quotes, quotes_before):
                return None
            separators = separators[_outside(quotes, separators, quotes_before)]
            quotes_before += quotes.size
        elif quotes_before & 1:
            separators = separators[:0]  # the whole chunk is inside a quoted cell
        lines = np.flatnonzero(arr[separators] == _LF)
        if lines.size:
            counts = np.diff(lines, prepend=-1) - 1
            counts[0] += pending
            pending = separators.size - 1 - int(lines[-1])
            ends.append(separators[lines])
            commas.append(counts)
        else:
            pending += separators.size
    if quotes_before & 1:
        return None  # a quoted cell that never ends
    if size and data[-1] != _LF:
        ends.append(np.array([size], dtype=np.int64))
        commas.append(np.array([pending], dtype=np.int64))
    if not ends:
        return None
    return RecordShape(np.concatenate(ends), np.concatenate(commas))


def read_csv_natively(label: str, name: str, data: bytes, problems: list[Problem],
                      limits: ReadLimits) -> RawTable | None:
    """The table of the UTF-8 CSV ``data`` (without its BOM) as the csv module path reads it,
    its problems appended to ``problems``; ``None`` when the file fails the proof."""
    if not data or not _line_ends_hold(data):
        return None
    separators = _separators(data)
    if separators is None:
        return None
    header = _header(data[:separators.header_end])
    if header is None or len(header) > limits.max_columns:
        return None
    width = len(header)
    records = separators.lines + (0 if data[-1] == _LF else 1)  # the header is one
    separating = (width - 1) * records  # the separating commas of a regular file
    inner = sum(cell.count(",") for cell in header)
    if ((separators.quoted or separators.commas - inner == separating)
            and _last_record_holds(data, separators, width)
            and not over_row_limits(label, records - 1, width, [], limits)):
        frame = _polars(data, width, ragged=False)
        if frame is not None:
            if frame.height != records - 1:
                return None
            texts = {c: code_texts(frame.get_column(c)) for c in frame.columns}
            if separators.quoted:
                inner += sum(_commas_in(frame.get_column(c), texts[c]) for c in frame.columns)
            if separators.commas - inner == separating:
                # no record has more cells than the header (Polars raises then): so none has fewer
                return _table(label, name, frame, header, texts, np.empty(0, dtype=np.int64), [],
                              problems, limits)
            del frame, texts
    return _irregular(label, name, data, header, problems, limits)


def _commas_in(column: pl.Series, texts: pl.Series) -> int:
    """How many commas the cells of ``column`` hold (``texts``: the text of each code)."""
    per_code = texts.str.count_matches(",", literal=True).fill_null(0)
    if not per_code.sum():
        return 0
    codes = column.to_physical().drop_nulls().to_numpy()
    return int(np.bincount(codes, minlength=per_code.len()) @ per_code.to_numpy())


def _last_record_holds(data: bytes, separators: _Separators, width: int) -> bool:
    """Whether a last record without a line end has as many cells as the header (Polars cuts
    the empty cells past the header's width off such a record instead of raising)."""
    if data[-1] == _LF:
        return True
    shape = record_shape(data[separators.last_start:])
    return shape is not None and int(shape.commas[-1]) == width - 1


def _header(data: bytes) -> list[str] | None:
    """The cells of the first record ``data`` (its line end excluded); None when it is empty
    (the csv module path reports it)."""
    text = data.decode("utf-8")
    if not text.strip("\r"):
        return None
    return next(csv.reader(io.StringIO(text, newline=""), strict=True))


def _polars(data: bytes, width: int, *, ragged: bool) -> pl.DataFrame | None:
    """Polars' reading of ``data`` (``None`` when it raises); with ``ragged``, a record with
    too many cells is cut to the header's width rather than raising."""
    names = frame_columns(width)
    try:
        # each column a categorical of its own: a registry's cells repeat, and a code per cell
        # takes a quarter of the memory of a string view (typing works on the distinct texts)
        frame = pl.read_csv(
            data, has_header=True, new_columns=names, separator=",", quote_char='"',
            schema={c: pl.Categorical(pl.Categories.random()) for c in names},
            eol_char="\n", comment_prefix=None, null_values=None, empty_string_is_null=True,
            truncate_ragged_lines=ragged, raise_if_empty=False, encoding="utf8", try_parse_dates=False,
        )
    except Exception:  # noqa: BLE001 - anything polars rejects is read another way
        return None
    return frame if frame.columns == names else None


def _irregular(label: str, name: str, data: bytes, header: list[str], problems: list[Problem],
               limits: ReadLimits) -> RawTable | None:
    """The table of a file whose records are not all as wide as its header, or past a row
    limit: proven record by record (see the module)."""
    shape = record_shape(data)
    if shape is None:
        return None
    width = len(header)
    if int(shape.commas[0]) != width - 1:
        return None
    records = shape.ends.size - 1
    found: list[Problem] = []
    kept = records
    if over_row_limits(label, records, width, [], limits):
        # the csv module stops at the first row past a limit: rows before it are read
        threshold = min(limits.max_rows if limits.max_rows is not None else records,
                        limits.max_cells // max(width, 1) if limits.max_cells is not None else records)
        over_row_limits(label, threshold + 1, width, found, limits)
        kept = threshold
        data = data[: int(shape.ends[kept])]
    long_rows = np.flatnonzero(shape.commas[1:kept + 1] > width - 1)
    if long_rows.size > _MAX_LONG_RECORDS or not all(
            _blank_record(data, shape, int(r) + 1) for r in long_rows):
        return None
    frame = _polars(data, width, ragged=True)
    if frame is None or frame.height != kept:
        return None
    ragged = np.flatnonzero(shape.commas[1:kept + 1] != width - 1) + 2
    texts = {c: code_texts(frame.get_column(c)) for c in frame.columns}
    return _table(label, name, frame, header, texts, ragged, found, problems, limits)


def _table(label: str, name: str, frame: pl.DataFrame, header: list[str], texts: dict[str, pl.Series],
           ragged: np.ndarray, found: list[Problem], problems: list[Problem],
           limits: ReadLimits) -> RawTable | None:
    """The table of Polars' ``frame`` (a row per record after the header) as the csv module
    path gives it: quoted empty cells empty, row numbers, blank rows left out, long cells
    reported, then ``found`` (the limit that stopped the reading). ``texts`` holds the text of
    each code of each column (``code_texts``; the checks flag texts, and a flag reaches the
    cells through their codes). ``None`` when a row of ``ragged`` (the row numbers of records
    not as wide as the header) is not blank."""
    names = frame.columns
    frame = frame.with_columns(
        # a quoted empty cell ("") is empty too, as on the csv module path
        [_without(pl.col(c), texts[c].eq("")) for c in names if texts[c].eq("").any()]
        + [pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW)]
    )
    blank = _blank_rows(frame, names, texts[names[0]])
    if not np.isin(ragged, blank).all():
        return None  # a ragged row with a value: the csv module path reports it
    if blank.size:  # a blank row (an empty line, or only commas) is ignored
        frame = frame.filter(~pl.col(ROW).is_in(pl.Series(blank).implode()))
    # in the csv module's order: row by row, then the limit that stopped the reading
    problems.extend(_long_cells(label, frame, texts, header, limits) + found)
    return RawTable(name, label, frame, header, escaped=True, texts=texts)


def _flagged(which: pl.Series) -> pl.Series:
    """The codes whose flag in ``which`` (a flag per category code; null: not flagged) is set."""
    return pl.Series(np.flatnonzero(which.fill_null(False).to_numpy()), dtype=pl.UInt32)


def _has_flagged(cells: pl.Expr, which: pl.Series) -> pl.Expr:
    """Whether each categorical cell's text is one of those flagged in ``which``."""
    return cells.to_physical().is_in(_flagged(which).implode())


def _without(cells: pl.Expr, which: pl.Series) -> pl.Expr:
    """The categorical ``cells`` with null where a cell's text is one of ``which`` (a flag per
    category code)."""
    return pl.when(~_has_flagged(cells, which)).then(cells)


def _rows_with(frame: pl.DataFrame, column: str, which: pl.Series) -> pl.DataFrame:
    """The rows of ``frame`` whose cell of ``column`` has one of the texts flagged in ``which``."""
    return frame.filter(_has_flagged(pl.col(column), which))


def _blank_rows(frame: pl.DataFrame, names: list[str], first_texts: pl.Series) -> np.ndarray:
    """The row numbers of the rows without a cell of more than whitespace (``str.strip``'s).

    Only a row whose first cell is empty or starts with whitespace can be one: those few are
    looked at cell by cell (vectorised), the others never."""
    spaced = first_texts.str.head(1).is_in(list(PYTHON_WHITESPACE))
    first = pl.col(names[0])
    candidate = first.is_null()
    if spaced.any():
        candidate = candidate | _has_flagged(first, spaced)
    elif not frame.get_column(names[0]).null_count():
        return np.empty(0, dtype=np.int64)  # no first cell empty or spaced: no candidate at all
    text = frame.filter(candidate).select(ROW, *[pl.col(c).cast(pl.String) for c in names])
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars(PYTHON_WHITESPACE) == "")
                               for c in names])
    return text.filter(blank).get_column(ROW).sort().to_numpy()


def _blank_record(data: bytes, shape: RecordShape, record: int) -> bool:
    """Whether the csv module skips ``record`` (no cell with more than whitespace)."""
    start = int(shape.ends[record - 1]) + 1
    text = data[start:int(shape.ends[record])].decode("utf-8")
    return not any(cell.strip() for row in csv.reader(io.StringIO(text, newline=""), strict=True)
                   for cell in row)


def _long_cells(label: str, frame: pl.DataFrame, texts: dict[str, pl.Series], header: list[str],
                limits: ReadLimits) -> list[Problem]:
    """A problem for each cell longer than ``max_cell_chars``, row by row (the distinct texts
    of each column are measured, bytes first: cheap)."""
    limit = limits.max_cell_chars
    found = []
    for index, column in enumerate(texts):
        if not (texts[column].str.len_bytes().max() or 0) > limit:
            continue
        bad = _rows_with(frame, column, texts[column].str.len_chars() > limit)
        for row, value in bad.select(ROW, pl.col(column).cast(pl.String)).iter_rows():
            found.append((row, index, long_cell_problem(
                label, row, header[index].strip() or column_letter(index + 1), value, limit)))
    return [problem for _, _, problem in sorted(found, key=lambda f: f[:2])]
