"""Read a dataset (a folder of CSV files or one .xlsx workbook) into tables of text cells.

Nothing is interpreted here: every cell stays a string (or null when empty), each row
keeps the number a spreadsheet shows for it (header = row 1), and column names are
matched case-insensitively after trimming. Typing and checking is ``validate``'s job.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
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
    """Read a CSV folder or an .xlsx workbook; raise ``DatasetError`` when it cannot be read."""
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
    if raw.problems:
        raise DatasetError(raw.problems, source=str(path))
    return raw


def _read_folder(folder: Path) -> RawDataset:
    raw = RawDataset(source=str(folder))
    known = set(exchange_format().table_names)
    for csv_path in sorted(folder.glob("*.csv")):
        name = csv_path.stem.lower()
        label = csv_path.name
        if name not in known:
            raw.problems.append(Problem(label, None, None, None,
                                        f"unknown table; the tables are {', '.join(sorted(known))}"))
            continue
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
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=True, raise_if_empty=True)
    except Exception:  # polars rejects ragged rows: find them with the csv module
        return _parse_csv_slowly(label, name, text, problems)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if frame.height + 1 != lines:
        # blank lines or cells spanning lines: number the rows record by record instead
        return _parse_csv_slowly(label, name, text, problems)
    header = next(csv.reader(text.splitlines(keepends=True)[:1]))
    if len({h.strip().lower() for h in header}) != len(header):
        return _parse_csv_slowly(label, name, text, problems)
    frame = frame.rename(dict(zip(frame.columns, header)))
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    return RawTable(name, label, frame, header)


def _parse_csv_slowly(label: str, name: str, text: str, problems: list[Problem]) -> RawTable | None:
    rows = list(csv.reader(text.splitlines(keepends=True)))
    header = rows[0]
    if not header:
        problems.append(Problem(label, 1, None, None, "the first row is empty; it must be the header row"))
        return None
    good: list[list[str | None]] = []
    numbers: list[int] = []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            if not any(cell.strip() for cell in row):
                continue
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
            table = _sheet_table(label, name, sheet)
            if table is not None:
                raw.tables[name] = table
    finally:
        book.close()
    return raw


def _sheet_table(label: str, name: str, sheet) -> RawTable | None:
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
        if all(v is None for v in values) and all(_cell_text(c) is None for c in cells[width:]):
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
