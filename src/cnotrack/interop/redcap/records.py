"""REDCap's flat records export (CSV or JSON, raw values) read into a frame of text, and the
check that its columns are the project's.

A records file can hold 100,000 rows or more, so it is read without a Python loop over rows or
cells: a CSV by Polars' CSV reader with every column ``String``, a JSON export by ``json`` and
Polars, its shape (a list of objects whose values are all strings) proven by one regular
expression pass over the text. Only a file that fails that proof is looked at item by item, to
name the items that break it.

Every value stays the text REDCap exported (``36,5`` stays ``36,5``; the mapping converts), an
empty cell is ``None``, and ``_row`` says where the row was: the row a spreadsheet shows (header
= 1) for CSV, the 1-based item for JSON. The small files of a project (dictionary, events, ...)
are read here too, by the csv module (``read_small_csv``).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import polars as pl

from ...errors import DatasetError, Problem
from ...exchange.csv_native import record_shape
from ...exchange.reader import CLI_LIMITS, ReadLimits, column_letter, long_cell_problem, over_row_limits, too_large_file
from .project import PSEUDO_FIELDS, RECORD_ROW, Field

__all__ = [
    "DELIMITERS", "check_record_columns", "detect_delimiter", "parse_records", "read_records", "read_small_csv",
]

#: the delimiters REDCap's CSV exports use (the user's locale chooses ``;`` or tab for some)
DELIMITERS = (",", ";", "\t")
_BOM = b"\xef\xbb\xbf"
#: REDCap's JSON writes ``redcap_repeat_instance`` as a number (the RareLink export shows it);
#: every other value is a string
_NUMBER_KEYS = ("redcap_repeat_instance",)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_NUMBER_MEMBER = re.compile(rb'"redcap_repeat_instance"\s*:\s*-?[0-9]+(?=\s*[,}])')
_JSON_SPACE = re.compile(rb"\s+")
#: the skeleton of a list of flat objects of strings, once every string is ``""``
_JSON_FLAT_OBJECTS = re.compile(rb'\[(?:\{(?:"":""(?:,"":"")*)?\}(?:,\{(?:"":""(?:,"":"")*)?\})*)?\]')
_CR = 13
_MAX_LISTED = 1_000    # rows listed one by one for one kind of problem; the rest are counted


def detect_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file from its header line: the one of ``,``, ``;`` and tab found
    most often outside quotes (a REDCap header never holds the others), ``,`` when none is."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    best = max(DELIMITERS, key=unquoted.count)
    return best if unquoted.count(best) else ","


def _text(data: bytes, source: str, problems: list[Problem]) -> str | None:
    """``data`` decoded as UTF-8 without its BOM, or None (with a problem) when it is not UTF-8."""
    try:
        return data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(Problem(source, None, None, repr(data[error.start:error.start + 8]),
                                f"the file is not UTF-8 (byte {error.start + 1}); export it from REDCap "
                                f"again, or save it as 'CSV UTF-8' from a spreadsheet"))
        return None


def read_small_csv(data: bytes, source: str, problems: list[Problem]) -> list[tuple[int, list[str]]] | None:
    """The records of a small CSV file (a dictionary, events, designations, repeating forms),
    each with its row as a spreadsheet shows it (header = 1), blank lines left out; UTF-8 with
    or without BOM, the delimiter found in the header line. A record that is not well-formed
    CSV is a problem, and the records before it are returned, so that their problems are found
    too; None (with a problem) when the file is not UTF-8."""
    text = _text(data, source, problems)
    if text is None:
        return None
    delimiter = detect_delimiter(text.split("\n", 1)[0])
    rows: list[tuple[int, list[str]]] = []
    row = 0
    try:
        for row, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                               strict=True), start=1):
            if cells:
                rows.append((row, cells))
    except csv.Error as error:
        hint = (" (a quote inside a quoted cell must be doubled: \"\")" if "expected after" in str(error)
                else "")
        problems.append(Problem(source, row + 1, None, None,
                                f"row {row + 1} is not well-formed CSV: {error}{hint}; correct the row "
                                f"(the rows after it were not read)"))
    return rows


def parse_records(data: bytes, source: str, *, format: Literal["csv", "json"] = "csv",
                  limits: ReadLimits = CLI_LIMITS) -> pl.DataFrame:
    """The rows of a flat records export: a ``String`` column per exported column (``None``
    where REDCap exported ``""``) plus ``_row``. CSV: UTF-8 with or without BOM, ``,``, ``;``
    or tab, CRLF or LF, quoted cells with line breaks. JSON: a list of objects whose values are
    strings. A repeated or empty header, a non-string value, a row without a record id (the
    first column, as REDCap exports it), a CSV row with fewer cells than the header, a cell or a
    file over ``limits``: every problem is raised at once as a ``DatasetError``."""
    problems: list[Problem] = []
    frame = read_records(data, source, problems, format=format, limits=limits)
    if problems or frame is None:
        raise DatasetError(problems, source)
    return frame


def read_records(data: bytes, source: str, problems: list[Problem], *,
                 format: Literal["csv", "json"] = "csv", limits: ReadLimits = CLI_LIMITS) -> pl.DataFrame | None:
    """``parse_records``, its problems appended to ``problems`` rather than raised, so that a
    caller checking a whole project finds the records' other problems too: the frame holds the
    columns that could be read (a repeated or empty header's column is left out); None when
    nothing could be read."""
    large = too_large_file(source, len(data), limits)
    if large is not None:
        problems.append(large)
        return None
    if format == "csv":
        frame = _csv_records(data, source, problems)
    elif format == "json":
        frame = _json_records(data, source, problems)
    else:
        raise ValueError(f"format must be 'csv' or 'json', not {format!r}")
    if frame is not None:
        over_row_limits(source, frame.height, frame.width - 1, problems, limits)
        problems.extend(_long_cells(frame, source, limits.max_cell_chars))
    if frame is not None and frame.width > 1:
        record_id = frame.columns[0]
        for row in frame.filter(pl.col(record_id).is_null()).get_column(RECORD_ROW).head(1000):
            problems.append(Problem(source, row, record_id, None,
                                    f"this row has no record id ({record_id!r} is empty); every REDCap row "
                                    f"names its record: fill it in or remove the row"))
    return frame


def _csv_records(data: bytes, source: str, problems: list[Problem]) -> pl.DataFrame | None:
    """The frame of a records CSV (see ``parse_records``), or None with problems."""
    text = _text(data, source, problems)
    if text is None:
        return None
    line = text.split("\n", 1)[0].rstrip("\r")
    if not line.strip():
        problems.append(Problem(source, 1, None, None,
                                "the records file has no header row; export the records from REDCap again"))
        return None
    delimiter = detect_delimiter(line)
    header = next(csv.reader([line], delimiter=delimiter))
    names = _header_names(header, source, problems)
    positional = [f"column_{i}" for i in range(len(header))]
    try:
        frame = pl.read_csv(
            data.removeprefix(_BOM), has_header=True, new_columns=positional, separator=delimiter,
            quote_char='"', infer_schema=False, null_values=None,
            comment_prefix=None, truncate_ragged_lines=False, raise_if_empty=False, try_parse_dates=False,
            encoding="utf8",
        )
    except pl.exceptions.PolarsError as error:
        reason = str(error).strip().splitlines()[0]
        problems.append(Problem(source, None, None, None,
                                f"the records file does not read as CSV ({reason}); a row may have more "
                                f"cells than the header: export the records from REDCap again"))
        return None
    problems.extend(_short_rows(data.removeprefix(_BOM), delimiter, len(header), frame.height, source))
    kept = [(p, name) for p, name in zip(positional, names) if name is not None]
    frame = frame.select(
        [pl.when(pl.col(p) != "").then(pl.col(p)).alias(name) for p, name in kept]
    ).with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(RECORD_ROW))
    # a blank line is a row a spreadsheet shows, and holds nothing: it keeps its number, not its place
    return frame.filter(~pl.all_horizontal(pl.col(n for _, n in kept).is_null())) if kept else frame


def _short_rows(data: bytes, delimiter: str, width: int, rows: int, source: str) -> list[Problem]:
    """A problem for each row of the CSV ``data`` with fewer cells than the header (Polars pads
    such a row with empty cells; REDCap always writes every cell, so a short row lost some: an
    interrupted download, an edit). Proven on the bytes (``_record_shapes``), no loop over rows;
    a blank line is no row. ``rows``: how many rows Polars read, which the proof must find too."""
    shapes = _record_shapes(data, ord(delimiter))
    if shapes is None or shapes[0].size != rows + 1:
        return [Problem(source, None, None, None,
                        "the records file's quotes do not pair up as REDCap writes them (a quote inside a cell "
                        "must be doubled, \"\", and the cell quoted); export the records from REDCap again")]
    separators, blank = shapes
    short = np.flatnonzero((separators < width - 1) & ~blank)
    short = short[short > 0]  # the header is record 0
    problems = [Problem(source, int(r) + 1, None, None,
                        f"row {int(r) + 1} has {int(separators[r]) + 1} cells, the header has {width}: cells were "
                        "lost (an interrupted download, an edit in a spreadsheet); export the records from "
                        "REDCap again") for r in short[:_MAX_LISTED]]
    if short.size > _MAX_LISTED:
        problems.append(Problem(source, int(short[_MAX_LISTED]) + 1, None, None,
                                f"and {short.size - _MAX_LISTED:,} more rows with fewer cells than the header"))
    return problems


def _record_shapes(data: bytes, delimiter: int) -> tuple[np.ndarray, np.ndarray] | None:
    """For each record of the CSV ``data`` (the header first): how many delimiters it holds
    outside quoted cells (``exchange.csv_native.record_shape``, which reads the exchange format's
    files the same way), and whether it is a blank line; None when a quoted cell never ends."""
    if not data:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    shape = record_shape(data, separator=delimiter, quotes_must_hold=False)
    if shape is None:
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    end = shape.ends.astype(np.int64)
    begin = np.concatenate([[0], end[:-1] + 1])
    length = end - begin
    blank = (length == 0) | ((length == 1) & (arr[np.minimum(begin, arr.size - 1)] == _CR))
    return shape.commas, blank


def _long_cells(frame: pl.DataFrame, source: str, limit: int) -> list[Problem]:
    """A problem for each cell longer than ``limit`` characters (the exchange format's cell
    limit, which a value must keep to be exported and read back), by row and field: a loop over
    columns, each measured on the whole column."""
    found: list[Problem] = []
    for name in frame.columns:
        if name == RECORD_ROW or frame.schema[name] != pl.String or not (frame[name].str.len_bytes().max() or 0) > limit:
            continue
        long = frame.filter(pl.col(name).str.len_chars() > limit).select(RECORD_ROW, name)
        found += [long_cell_problem(source, row, name, value, limit) for row, value in long.head(_MAX_LISTED).rows()]
    return found


def _header_names(header: list[str], source: str, problems: list[Problem]) -> list[str | None]:
    """The column names of a records header, with problems for empty and repeated ones (whose
    name is None: their columns are left out, and reading goes on to find the other problems)."""
    names: list[str | None] = []
    first: dict[str, int] = {}
    for index, cell in enumerate(header):
        name, letter = cell.strip(), column_letter(index + 1)
        if not name:
            problems.append(Problem(source, 1, letter, None,
                                    f"column {letter} has no header; export the records from REDCap again"))
        elif name in first:
            problems.append(Problem(source, 1, name, name,
                                    f"the column {name!r} is in the header twice (columns "
                                    f"{column_letter(first[name] + 1)} and {letter}); remove one"))
        else:
            first[name] = index
            names.append(name)
            continue
        names.append(None)
    return names


def _json_records(data: bytes, source: str, problems: list[Problem]) -> pl.DataFrame | None:
    """The frame of a records JSON export (see ``parse_records``), or None with problems."""
    text = _text(data, source, problems)
    if text is None:
        return None
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(Problem(source, None, None, None,
                                f"the records file is not JSON ({error.msg} at line {error.lineno}, column "
                                f"{error.colno}); export the records from REDCap again"))
        return None
    if not isinstance(items, list):
        problems.append(Problem(source, None, None, type(items).__name__,
                                "the records JSON is not a list of records; export them as REDCap's "
                                "flat JSON (type=flat)"))
        return None
    if not _flat_strings(data) and not _items_hold(items, source, problems):
        return None
    keys = list(dict.fromkeys(itertools.chain.from_iterable(items)))
    frame = pl.from_dicts(items, schema={key: pl.String for key in keys}, strict=False) if items \
        else pl.DataFrame(schema={key: pl.String for key in keys})
    return frame.with_columns(
        [pl.when(pl.col(key) != "").then(pl.col(key)).alias(key) for key in keys]
        + [pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(RECORD_ROW)]
    )


def _flat_strings(data: bytes) -> bool:
    """Whether the JSON ``data`` is a list of objects whose values are all strings (or numbers
    where REDCap writes them), proven on its skeleton: every string made ``""`` and white space
    dropped, what is left must be ``[{"":"",...},...]``. One regular expression pass each, no
    loop over items."""
    body = _JSON_NUMBER_MEMBER.sub(b'"redcap_repeat_instance":""', data.removeprefix(_BOM))
    skeleton = _JSON_SPACE.sub(b"", _JSON_STRING.sub(b'""', body))
    return _JSON_FLAT_OBJECTS.fullmatch(skeleton) is not None


def _items_hold(items: list, source: str, problems: list[Problem]) -> bool:
    """Item by item (only for a file that failed ``_flat_strings``): a problem for each item that
    is not an object and each value that is not a string; whether there was none."""
    found = len(problems)
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(source, index, None, _short(item),
                                    f"item {index} of the records JSON is not an object of field -> value; "
                                    f"export the records as REDCap's flat JSON (type=flat)"))
            continue
        record = next(iter(item.values()), None)
        for key, value in item.items():
            if isinstance(value, str) or (key in _NUMBER_KEYS and type(value) is int):
                continue
            problems.append(Problem(source, index, key, _short(value),
                                    f"item {index} (record {record!r}): the value of {key!r} is "
                                    f"{type(value).__name__}, not a string; REDCap's raw export writes every "
                                    f"value as a string (\"\" when empty): export the records again"))
        if len(problems) - found > 1000:
            break
    return len(problems) == found


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def check_record_columns(columns: Iterable[str], fields: Mapping[str, Field], source: str,
                         missing_codes: Iterable[str] = ()) -> list[Problem]:
    """A problem for each records column that is none of: a dictionary field, a ``field___code``
    column of a checkbox field with that code (or a missing-data code, which REDCap exports as a
    checkbox column too), ``<form>_complete`` (or ``<form>_timestamp`` of a survey), a REDCap
    column (``PSEUDO_FIELDS``). A checkbox field exported as one column is a problem too."""
    forms = list(dict.fromkeys(f.form for f in fields.values()))
    extra = {f"{form}_complete" for form in forms} | {f"{form}_timestamp" for form in forms} | set(PSEUDO_FIELDS)
    missing = tuple(missing_codes)
    problems: list[Problem] = []
    for column in columns:
        if column == RECORD_ROW or column in extra:
            continue
        if column in fields:
            if fields[column].field_type == "checkbox":
                problems.append(Problem(source, 1, column, column,
                                        f"the checkbox field {column!r} is one column here; REDCap exports a "
                                        f"column per choice ({column}___code): export the raw records again"))
            continue
        problems.extend(_checkbox_column_problems(column, fields, source, missing))
    return problems


def _checkbox_column_problems(column: str, fields: Mapping[str, Field], source: str,
                              missing: tuple[str, ...]) -> list[Problem]:
    """Nothing when ``column`` is a ``field___code`` column of a checkbox choice, else the problem."""
    start = column.find("___")
    while start > 0:
        field = fields.get(column[:start])
        if field is not None and field.field_type == "checkbox":
            codes = [code for code, _ in field.choices] + list(missing)
            if any(field.checkbox_column(code) == column for code in codes):
                return []
            return [Problem(source, 1, column, column,
                            f"the column {column!r} is a checkbox column of {field.name!r}, but no code of that "
                            f"field exports as it (its codes: {', '.join(c for c, _ in field.choices)}); export "
                            f"the records and the data dictionary from the same project")]
        start = column.find("___", start + 1)
    return [Problem(source, 1, column, column,
                    f"the column {column!r} is not a field of the data dictionary, a checkbox column "
                    f"(field___code), a <form>_complete column, nor one of REDCap's "
                    f"({', '.join(PSEUDO_FIELDS)}); export the records and the dictionary from the same project")]
