"""Read a dataset (a folder of CSV files or one .xlsx workbook) into tables of text cells.

Nothing is interpreted here: every cell stays a string (or null when empty), each row
keeps the number a spreadsheet shows for it (header = row 1), and column names are
matched case-insensitively after trimming. Typing and checking is ``validate``'s job.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import DatasetError, Problem
from .schema import exchange_format

__all__ = ["RawDataset", "RawTable", "read_dataset"]

ROW = "_row"


@dataclass
class RawTable:
    """One table as read: string columns named as the header gave them, plus ``_row``."""

    name: str
    source: str
    frame: pl.DataFrame
    header: list[str]


@dataclass
class RawDataset:
    source: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_dataset(path: str | Path) -> RawDataset:
    """Read a CSV folder or an .xlsx workbook; raise ``DatasetError`` when it cannot be read.

    Problems of single files or rows (a file that is not UTF-8, a ragged row, an unknown
    sheet) are kept in ``problems`` for ``validate_dataset`` to report with all the others.
    """
    path = Path(path)
    if path.is_dir():
        raw = _read_folder(path)
    elif path.suffix.lower() == ".xlsx" and path.is_file():
        raw = _read_workbook(path)
    elif not path.exists():
        raise DatasetError([Problem(str(path), None, None, None,
                                    "no such file or folder; give a folder of CSV files or an .xlsx workbook")])
    else:
        raise DatasetError([Problem(str(path), None, None, None,
                                    "not a dataset; give a folder of CSV files or an .xlsx workbook")])
    if raw.problems and not raw.tables:
        raise DatasetError(raw.problems, source=str(path))
    return raw


def _read_folder(folder: Path) -> RawDataset:
    raw = RawDataset(source=str(folder))
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
        data = csv_path.read_bytes()
        raw.sha256[label] = hashlib.sha256(data).hexdigest()
        table = _parse_csv(label, name, data, raw.problems)
        if table is not None:
            raw.tables[name] = table
    return raw


def _parse_csv(label: str, name: str, data: bytes, problems: list[Problem]) -> RawTable | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(label, line, None, None,
                                "the file is not UTF-8; save it as 'CSV UTF-8'"))
        return None
    if not text.strip():
        problems.append(Problem(label, 1, None, None, "the file is empty; it needs a header row"))
        return None
    quick = _parse_csv_quickly(label, name, text, data)
    if quick is not None:
        return quick
    # the csv module, not polars: polars pads a row with too few cells with nulls, silently
    return _parse_csv_slowly(label, name, text, problems)


def _parse_csv_quickly(label: str, name: str, text: str, data: bytes) -> RawTable | None:
    """Polars' reader, only for a file that it provably reads as the csv module does; else None.

    That is a file without quotes, carriage returns or NUL characters, whose every line is one
    row with as many cells as the header (no blank line, no row of only empty cells), and whose
    header names are distinct and non-empty. Polars refuses a row with too many cells; a row
    with too few shows in the count of commas, which must be exactly (cells - 1) per line.
    """
    if '"' in text or "\r" in text or "\x00" in text:
        return None
    header = text.split("\n", 1)[0].split(",")
    if "" in header or len({h.strip().lower() for h in header}) != len(header):
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if text.count(",") != (len(header) - 1) * lines:
        return None
    try:
        frame = pl.read_csv(data.removeprefix(b"\xef\xbb\xbf"), infer_schema=False, has_header=True,
                            raise_if_empty=True, empty_string_is_null=True)
    except Exception:  # noqa: BLE001 - anything polars rejects is read by the csv module
        return None
    if frame.height + 1 != lines or frame.columns != header:
        return None

    def empty(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")

    if frame.filter(empty(header[0])).filter(pl.all_horizontal([empty(c) for c in header])).height:
        return None  # a row of only empty cells is skipped by the csv module path
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))
    return RawTable(name, label, frame, header)


def _parse_csv_slowly(label: str, name: str, text: str, problems: list[Problem]) -> RawTable | None:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    if not header:
        problems.append(Problem(label, 1, None, None, "the first row is empty; it must be the header row"))
        return None
    good: list[list[str | None]] = []
    numbers: list[int] = []
    for i, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank row (an empty line, or only commas) is ignored
        if len(row) != len(header):
            problems.append(Problem(label, i, None, None,
                                    f"the row has {len(row)} cells but the header has {len(header)}; "
                                    "check for an unquoted comma or a missing cell"))
            continue
        good.append([cell if cell != "" else None for cell in row])
        numbers.append(i)
    frame = pl.DataFrame(good, schema=[(h, pl.String) for h in _dedupe(header)], orient="row")
    frame = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return RawTable(name, label, frame, header)


def _dedupe(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h}__{n}")
    return out


def _read_workbook(path: Path) -> RawDataset:
    import openpyxl

    raw = RawDataset(source=str(path))
    data = path.read_bytes()
    raw.sha256[path.name] = hashlib.sha256(data).hexdigest()
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raw.problems.append(Problem(path.name, None, None, None,
                                    f"cannot be opened as an .xlsx workbook ({exc}); save it again from Excel"))
        return raw
    known = set(exchange_format().table_names)
    try:
        for sheet in book.worksheets:
            name = sheet.title.strip().lower()
            label = f"{path.name}[{sheet.title}]"
            if name not in known:
                if name.startswith("_") or name in {"readme", "about"}:
                    continue  # documentation sheets of the template workbook
                raw.problems.append(Problem(label, None, None, None,
                                            f"unknown sheet; the sheets are {', '.join(sorted(known))} "
                                            "(a sheet whose name starts with '_' is ignored)"))
                continue
            if name in raw.tables:
                raw.problems.append(Problem(label, None, None, None,
                                            f"a second sheet for the table {name}; keep one"))
                continue
            table = _sheet_table(label, name, sheet, raw.problems)
            if table is not None:
                raw.tables[name] = table
    finally:
        book.close()
    return raw


def _sheet_table(label: str, name: str, sheet, problems: list[Problem]) -> RawTable | None:
    from openpyxl.utils import get_column_letter

    rows = sheet.iter_rows(values_only=True)
    try:
        header_cells = next(rows)
    except StopIteration:
        return None
    header = [_cell_text(c) or "" for c in header_cells]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    records: list[list[str | None]] = []
    numbers: list[int] = []
    for i, cells in enumerate(rows, start=2):
        values = [_cell_text(c) for c in cells[:width]]
        values += [None] * (width - len(values))
        beyond = [(j, _cell_text(c)) for j, c in enumerate(cells[width:], start=width + 1)
                  if _cell_text(c) is not None]
        for j, value in beyond:  # never dropped silently: a value needs a named column
            problems.append(Problem(label, i, None, value,
                                    f"a value in column {get_column_letter(j)}, which has no header; "
                                    "give the column a name or remove the value"))
        if all(v is None for v in values) and not beyond:
            continue
        records.append(values)
        numbers.append(i)
    frame = pl.DataFrame(records, schema=[(h, pl.String) for h in _dedupe(header)], orient="row")
    frame = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return RawTable(name, label, frame, header)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text.strip() != "" else None
