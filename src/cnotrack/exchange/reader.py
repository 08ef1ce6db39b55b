"""Read a dataset (a folder of CSV files or one .xlsx workbook) into tables of text cells.

Nothing is interpreted here: every cell stays a string (or null when empty), each row
keeps the number a spreadsheet shows for it (header = row 1), and column names are
matched case-insensitively after trimming. Typing and checking is ``validate``'s job.

The frame of a ``RawTable`` names its columns by position (``header[i]`` is the name of the
``i``-th column), never by the header's text: no header (``_row``, ``x`` twice, ``a__1``)
can collide with another column or with the row number. Reading is bounded by
``ReadLimits``: a file too large, a table with too many rows, columns or cells, a cell
too long, or a workbook that would inflate far beyond its size is a problem that names it,
found before the work it would cause.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import DatasetError, Problem
from .schema import exchange_format

__all__ = [
    "CLI_LIMITS", "UPLOAD_LIMITS", "RawDataset", "RawTable", "ReadLimits", "column_letter",
    "frame_columns", "open_dataset", "read_dataset",
]

ROW = "_row"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767


@dataclass(frozen=True)
class ReadLimits:
    """How much work reading one dataset may take; ``None`` is no bound.

    Rows count as a spreadsheet numbers them (blank rows too, the header not); cells are rows
    times the columns of the header. A cell longer than ``max_cell_chars`` is a problem in any
    case (a workbook cell holds at most 32,767 characters, so a longer one could never be
    exported to a workbook). A workbook is checked before it is parsed: its size on disk, the
    number of its zip members, their uncompressed size together, and how much larger that is
    than the file (a zip bomb inflates a few kilobytes into gigabytes).
    """

    max_file_bytes: int | None = None
    max_rows: int | None = None
    max_columns: int = EXCEL_MAX_COLUMNS
    max_cells: int | None = None
    max_cell_chars: int = EXCEL_MAX_CELL_CHARS
    max_workbook_members: int = 10_000
    max_uncompressed_bytes: int | None = None
    max_compression_ratio: float | None = 200.0


#: the command line's bounds: the operator's own files, as large as a registry's
CLI_LIMITS = ReadLimits()
#: the bounds the web app applies to an upload (about 2 million rows of 8 cells per table)
UPLOAD_LIMITS = ReadLimits(
    max_file_bytes=50 * 2**20, max_rows=2_000_000, max_columns=500, max_cells=16_000_000,
    max_workbook_members=200, max_uncompressed_bytes=400 * 2**20, max_compression_ratio=100.0,
)


@dataclass
class RawTable:
    """One table as read: text columns named by position (see ``frame_columns``), plus
    ``_row``; ``header`` gives the names the file gave them. ``escaped`` marks CSV cells,
    which carry the spreadsheet escape of ``spreadsheet``. A column is ``String``, or, from
    the native CSV reader (``csv_native``), a ``Categorical`` of the same texts whose
    categories are its own; for such a column ``texts`` may hold the text of each of its codes
    (``categories.code_texts``), which the reader needed too, so that typing does not make them
    again."""

    name: str
    source: str
    frame: pl.DataFrame
    header: list[str]
    escaped: bool = False
    texts: dict[str, pl.Series] = field(default_factory=dict)


@dataclass
class RawDataset:
    source: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def frame_columns(width: int) -> list[str]:
    """The frame's names for ``width`` columns: by position, never a header's text."""
    return [f"column {i + 1}" for i in range(width)]


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 1-based column ``index`` (1 -> A, 27 -> AA)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def read_dataset(path: str | Path, *, limits: ReadLimits | None = None, label: str | None = None) -> RawDataset:
    """Read a CSV folder or an .xlsx workbook; raise ``DatasetError`` when it cannot be read.

    Problems of single files or rows (a file that is not UTF-8, a ragged row, an unknown
    sheet, a limit passed) are kept in ``problems`` for ``validate_dataset`` to report with all
    the others. ``label`` names the dataset in its problems and its ``source`` (a web upload
    passes the uploaded file's name, never the server's temporary path); without it, the name
    is the folder's or the workbook's name, never its full path. ``limits`` defaults to
    ``CLI_LIMITS``.
    """
    raw, tables = open_dataset(path, limits=limits, label=label)
    for table in tables:
        raw.tables[table.name] = table
    if raw.problems and not raw.tables:
        raise DatasetError(raw.problems, source=raw.source)
    return raw


def open_dataset(path: str | Path, *, limits: ReadLimits | None = None,
                 label: str | None = None) -> tuple[RawDataset, Iterator[RawTable]]:
    """The dataset at ``path`` (as ``read_dataset``) and its tables, read one at a time as the
    iterator is consumed (a CSV folder: one file each), so that a caller can type each table and
    let its text go before the next is read. ``RawDataset.problems`` and ``sha256`` are complete
    once the iterator is exhausted; ``tables`` stays empty."""
    path = Path(path)
    limits = limits or CLI_LIMITS
    name = label or path.name or str(path)
    raw = RawDataset(source=name)
    if path.is_dir():
        return raw, _folder_tables(path, limits, raw)
    if path.suffix.lower() == ".xlsx" and path.is_file():
        from .workbook import read_workbook

        read_workbook(path, name, limits, raw)
        tables = list(raw.tables.values())
        raw.tables.clear()
        return raw, iter(tables)
    if not path.exists():
        raise DatasetError([Problem(name, None, None, None,
                                    "no such file or folder; give a folder of CSV files or an .xlsx workbook")])
    raise DatasetError([Problem(name, None, None, None,
                                "not a dataset; give a folder of CSV files or an .xlsx workbook")])


def too_large_file(label: str, size: int, limits: ReadLimits) -> Problem | None:
    if limits.max_file_bytes is not None and size > limits.max_file_bytes:
        return Problem(label, None, None, None,
                       f"the file has {size:,} bytes, more than the {limits.max_file_bytes:,} allowed here; "
                       "split the dataset or import it with the command line")
    return None


def _folder_tables(folder: Path, limits: ReadLimits, raw: RawDataset) -> Iterator[RawTable]:
    known = set(exchange_format().table_names)
    seen: dict[str, str] = {}
    # .csv in any case: a file named Labs.CSV is read, never skipped
    for csv_path in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file()):
        name = csv_path.stem.strip().lower()
        label = csv_path.name
        if name not in known:
            raw.problems.append(Problem(label, None, None, None,
                                        f"unknown table; the tables are {', '.join(sorted(known))}"))
            continue
        if name in seen:
            raw.problems.append(Problem(label, None, None, None,
                                        f"a second file for the table {name} (besides {seen[name]}); keep one"))
            continue
        seen[name] = label
        problem = too_large_file(label, csv_path.stat().st_size, limits)
        if problem is not None:
            raw.problems.append(problem)
            continue
        data = csv_path.read_bytes()
        digest = _Digest(data)  # beside the parsing: hashlib lets go of the GIL on large data
        try:
            table = _parse_csv(label, name, data, raw.problems, limits)
        finally:
            raw.sha256[label] = digest.hexdigest()
        del data
        if table is not None:
            yield table
        del table  # the text of this table goes before the next file is read (its caller lets it go)


class _Digest:
    """The sha256 of a file's bytes, computed in a thread of its own while the file is parsed."""

    def __init__(self, data: bytes) -> None:
        self._hash = hashlib.sha256()
        self._thread = threading.Thread(target=self._hash.update, args=(data,), daemon=True)
        self._thread.start()

    def hexdigest(self) -> str:
        self._thread.join()
        return self._hash.hexdigest()


def _parse_csv(label: str, name: str, data: bytes, problems: list[Problem],
               limits: ReadLimits) -> RawTable | None:
    from .csv_native import read_csv_natively

    content = _utf8_content(data)
    if content is None:
        exc = _decode_error(data)
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(label, line, None, None,
                                "the file is not UTF-8; save it as 'CSV UTF-8'"))
        return None
    if not content:
        problems.append(Problem(label, 1, None, None, "the file is empty; it needs a header row"))
        return None
    data = data.removeprefix(_BOM)
    # Polars' reader for a file whose shape is proven to read as the csv module reads it; the
    # csv module for any other (it reports ragged rows and malformed quotes: polars would pad a
    # row with too few cells with nulls, silently)
    table = read_csv_natively(label, name, data, problems, limits)
    if table is not None:
        return table
    return _parse_csv_slowly(label, name, data.decode("utf-8"), problems, limits)


_BOM = b"\xef\xbb\xbf"
_DECODE_CHUNK = 1 << 24
#: the ASCII characters ``str.strip()`` removes
_ASCII_WHITESPACE = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_PEEK = 1 << 12


def _utf8_content(data: bytes) -> bool | None:
    """None when ``data`` is not UTF-8; else whether it holds more than whitespace (decoded a
    chunk at a time, so that the whole text never sits in memory beside the bytes). ASCII
    bytes (a registry's export) are UTF-8 without decoding: one native pass."""
    if data.isascii() and data[:_PEEK].strip(_ASCII_WHITESPACE):
        return True
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    content = False
    view = memoryview(data)  # chunks without copies of the bytes
    try:
        for start in range(0, len(data), _DECODE_CHUNK):
            text = decoder.decode(view[start:start + _DECODE_CHUNK])
            content = content or (bool(text) and not text.isspace())
        content = bool(decoder.decode(b"", final=True).strip()) or content
    except UnicodeDecodeError:
        return None
    if decoder.getstate()[0]:
        return None  # a file that is the start of a BOM and nothing else (b"\xef"): not UTF-8
    return content


def _decode_error(data: bytes) -> UnicodeDecodeError:
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return exc
    raise AssertionError("the data decodes")


def _header_only(name: str, label: str, header: list[str]) -> RawTable:
    """The table's header without its rows, when a limit stopped the reading (the problem is
    reported; the header still lets validation check the columns)."""
    names = frame_columns(len(header))
    frame = pl.DataFrame(schema=[(n, pl.String) for n in names] + [(ROW, pl.Int64)])
    return RawTable(name, label, frame, header, escaped=True)


def over_row_limits(label: str, rows: int, width: int, problems: list[Problem], limits: ReadLimits) -> bool:
    if limits.max_rows is not None and rows > limits.max_rows:
        problems.append(Problem(label, limits.max_rows + 2, None, None,
                                f"the table has more than {limits.max_rows:,} rows, the most allowed here; "
                                "split it or import it with the command line"))
        return True
    if limits.max_cells is not None and rows * width > limits.max_cells:
        problems.append(Problem(label, limits.max_cells // max(width, 1) + 2, None, None,
                                f"the table has more than {limits.max_cells:,} cells ({width} columns), the most "
                                "allowed here; split it or import it with the command line"))
        return True
    return False


def long_cell_problem(label: str, row: int, column: str, value: str, limit: int) -> Problem:
    return Problem(label, row, column, value[:40] + "...",
                   f"the cell has {len(value):,} characters, more than the {limit:,} a spreadsheet cell "
                   "can hold; shorten it")


def _parse_csv_slowly(label: str, name: str, text: str, problems: list[Problem],
                      limits: ReadLimits) -> RawTable | None:
    # a cell can be as long as the file: the csv module's own limit (131,072) must not stop it
    # (ReadLimits.max_cell_chars reports a long cell by its row and column instead)
    csv.field_size_limit(max(csv.field_size_limit(), min(len(text) + 1, 2**31 - 1)))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        problems.append(_quote_problem(label, 1, exc))
        return None
    if not header:
        problems.append(Problem(label, 1, None, None, "the first row is empty; it must be the header row"))
        return None
    if len(header) > limits.max_columns:
        problems.append(Problem(label, 1, None, None,
                                f"the header has {len(header):,} columns, more than the {limits.max_columns:,} "
                                "allowed here"))
        return _header_only(name, label, header[: limits.max_columns])
    width = len(header)
    good: list[list[str | None]] = []
    numbers: list[int] = []
    i = 1
    while True:
        i += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # strict: a malformed quote ("1"5) is never read as 15
            problems.append(_quote_problem(label, i, exc))
            continue  # the csv module goes on with the next line
        if over_row_limits(label, i - 1, width, problems, limits):
            break
        if not any(cell.strip() for cell in row):
            continue  # a blank row (an empty line, or only commas) is ignored
        if len(row) != width:
            problems.append(Problem(label, i, None, None,
                                    f"the row has {len(row)} cells but the header has {width}; "
                                    "check for an unquoted comma or a missing cell"))
            continue
        for j, cell in enumerate(row):
            if len(cell) > limits.max_cell_chars:
                problems.append(long_cell_problem(label, i, header[j].strip() or column_letter(j + 1),
                                                  cell, limits.max_cell_chars))
        good.append([cell if cell != "" else None for cell in row])
        numbers.append(i)
    frame = pl.DataFrame(good, schema=[(h, pl.String) for h in frame_columns(width)], orient="row")
    frame = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return RawTable(name, label, frame, header, escaped=True)


def _quote_problem(label: str, row: int, exc: csv.Error) -> Problem:
    return Problem(label, row, None, None,
                   f"a malformed quoted cell ({exc}); a quoted cell must end with a quote followed by a "
                   'comma or the end of the line, and a quote inside it is doubled ("Genoa ""G.""")')
