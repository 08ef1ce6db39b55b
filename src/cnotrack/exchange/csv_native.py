"""Polars' native CSV reader, for a file proven to read exactly as the csv module reads it.

The csv module (``strict``, the ``excel`` dialect) is the reference: it reports a malformed
quote, a ragged row, a blank row, each with the row number a spreadsheet shows. Polars reads
quoted cells, doubled quotes, line breaks inside quotes and CRLF line ends at native speed,
but it is lenient where the csv module is strict (a row with too few cells is padded with
nulls, ``"1"5`` is read as some text). So before Polars reads a file, its shape is proven with
a few vectorised passes over its bytes (NumPy, no Python loop over rows or cells):

- no NUL byte, and a carriage return only as part of CRLF;
- the quotes are well formed: counting quotes from the start of the file, an opening quote
  (one preceded by an even number of quotes) starts a cell (it follows the start of the file,
  a comma, a line feed, or the closing quote of a doubled ``""``), a closing quote ends one (a
  comma, CR, LF, the end of the file or the opening quote of a doubled ``""`` follows it), and
  the count is even at the end. Then a comma or a line feed is a separator exactly when an
  even number of quotes precede it, as in the csv module's state machine;
- the records are the runs between separating line feeds (a line break inside a quoted cell
  stays in the cell, and the record keeps one row number, as a spreadsheet gives it); each
  record has as many cells as the header, or is a row the csv module skips (no cell with
  more than whitespace), checked on Polars' own (padded) cells, and by the csv module for the
  rare record with too many cells.

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
from .reader import (
    ROW, RawTable, ReadLimits, column_letter, frame_columns, long_cell_problem, over_row_limits,
)

__all__ = ["PYTHON_WHITESPACE", "read_csv_natively"]

#: the characters ``str.strip()`` removes (``str.isspace``), which differ from Rust's whitespace
#: (the information separators U+001C..U+001F are Python whitespace only)
PYTHON_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                     "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13
_CHUNK = 1 << 22  # bytes per NumPy pass: bounds the memory of the position arrays (~30 MB)
_MAX_LONG_RECORDS = 1_000  # records with too many cells, checked one by one (blank ones only)


@dataclass(frozen=True)
class _Shape:
    """Where each record ends (the separating line feed, or the file's end) and how many
    separating commas it holds."""

    ends: np.ndarray
    commas: np.ndarray


def _shape(data: bytes) -> _Shape | None:
    """The records of ``data`` when its quotes are well formed (see the module), else None."""
    if b"\x00" in data:
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    size = arr.size
    quotes_before = 0   # quotes before the chunk: their parity says whether it starts in a quote
    pending = 0         # separating commas since the last separating line feed
    ends: list[np.ndarray] = []
    commas: list[np.ndarray] = []
    for start in range(0, size, _CHUNK):
        part = arr[start:start + _CHUNK]
        returns = np.flatnonzero(part == _CR) + start
        if returns.size and (returns[-1] == size - 1 or np.any(arr[returns + 1] != _LF)):
            return None  # a carriage return that is not part of CRLF
        quotes = np.flatnonzero(part == _QUOTE) + start
        separators = np.flatnonzero((part == _COMMA) | (part == _LF)) + start
        if quotes.size:
            first = quotes_before & 1  # 0: the chunk's first quote opens a cell
            opening, closing = quotes[first::2], quotes[1 - first::2]
            before = arr[np.maximum(opening - 1, 0)]
            if not np.all((opening == 0) | (before == _COMMA) | (before == _LF) | (before == _QUOTE)):
                return None
            after = arr[np.minimum(closing + 1, size - 1)]
            if not np.all((closing == size - 1) | (after == _COMMA) | (after == _LF) | (after == _CR)
                          | (after == _QUOTE)):
                return None
            outside = ((np.searchsorted(quotes, separators) + quotes_before) & 1) == 0
            separators = separators[outside]
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
    return _Shape(np.concatenate(ends), np.concatenate(commas))


def read_csv_natively(label: str, name: str, data: bytes, problems: list[Problem],
                      limits: ReadLimits) -> RawTable | None:
    """The table of the UTF-8 CSV ``data`` (without its BOM) as the csv module path reads it,
    its problems appended to ``problems``; ``None`` when the file fails the proof."""
    shape = _shape(data)
    if shape is None:
        return None
    header_end = int(shape.ends[0])
    header_text = data[:header_end].decode("utf-8")
    if not header_text.strip("\r"):
        return None  # an empty first row: the csv module path reports it
    header = next(csv.reader(io.StringIO(header_text, newline=""), strict=True))
    width = len(header)
    if width > limits.max_columns or int(shape.commas[0]) != width - 1:
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
    names = frame_columns(width)
    try:
        # each column a categorical of its own: a registry's cells repeat, and a code per cell
        # takes a quarter of the memory of a string view (typing works on the distinct texts)
        frame = pl.read_csv(
            data, has_header=True, new_columns=names, separator=",", quote_char='"',
            schema={c: pl.Categorical(pl.Categories.random()) for c in names},
            eol_char="\n", comment_prefix=None, null_values=None, empty_string_is_null=True,
            truncate_ragged_lines=True, raise_if_empty=False, encoding="utf8", try_parse_dates=False,
        )
    except Exception:  # noqa: BLE001 - anything polars rejects is read by the csv module
        return None
    if frame.columns != names or frame.height != kept:
        return None
    schema = frame.schema  # once: each call converts every column's dtype (quadratic in columns)
    texts = {c: schema[c].categories.to_series() for c in names}  # kept alive by ``frame``
    frame = frame.with_columns(
        # a quoted empty cell ("") is empty too, as on the csv module path
        [_without(pl.col(c), texts[c].eq("")) for c in names if texts[c].eq("").any()]
        + [pl.int_range(2, kept + 2, dtype=pl.Int64).alias(ROW)]
    )
    blank = _blank_rows(frame, names, texts[names[0]])
    ragged = np.flatnonzero(shape.commas[1:kept + 1] != width - 1) + 2
    if not np.isin(ragged, blank).all():
        return None  # a ragged row with a value: the csv module path reports it
    if blank.size:  # a blank row (an empty line, or only commas) is ignored
        frame = frame.filter(~pl.col(ROW).is_in(pl.Series(blank).implode()))
    # in the csv module's order: row by row, then the limit that stopped the reading
    problems.extend(_long_cells(label, frame, texts, header, limits) + found)
    return RawTable(name, label, frame, header, escaped=True)


def _without(cells: pl.Expr, which: pl.Series) -> pl.Expr:
    """The categorical ``cells`` with null where a cell's text is one of ``which`` (a flag per
    category code)."""
    codes = pl.Series(np.flatnonzero(which.fill_null(False).to_numpy()), dtype=pl.UInt32)
    return pl.when(~cells.to_physical().is_in(codes.implode())).then(cells)


def _rows_with(frame: pl.DataFrame, column: str, which: pl.Series) -> pl.DataFrame:
    """The rows of ``frame`` whose cell of ``column`` has one of the texts flagged in ``which``."""
    codes = pl.Series(np.flatnonzero(which.fill_null(False).to_numpy()), dtype=pl.UInt32)
    return frame.filter(pl.col(column).to_physical().is_in(codes.implode()))


def _blank_rows(frame: pl.DataFrame, names: list[str], first_texts: pl.Series) -> np.ndarray:
    """The row numbers of the rows without a cell of more than whitespace (``str.strip``'s).

    Only a row whose first cell is empty or starts with whitespace can be one: those few are
    looked at cell by cell (vectorised), the others never."""
    spaced = first_texts.str.head(1).is_in(list(PYTHON_WHITESPACE))
    candidates = pl.concat([frame.filter(pl.col(names[0]).is_null()), _rows_with(frame, names[0], spaced)])
    text = candidates.select(ROW, *[pl.col(c).cast(pl.String) for c in names])
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars(PYTHON_WHITESPACE) == "")
                               for c in names])
    return text.filter(blank).get_column(ROW).sort().to_numpy()


def _blank_record(data: bytes, shape: _Shape, record: int) -> bool:
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
