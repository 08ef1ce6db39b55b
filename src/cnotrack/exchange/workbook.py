"""Read an .xlsx workbook into tables of text cells, with bounded work.

A workbook is a zip of XML files. Before anything is parsed its members are checked against
``ReadLimits`` (how many, how large uncompressed, how much larger than the file): a zip bomb
of a few kilobytes that would inflate to gigabytes is refused by name. A sheet's declared
``dimension`` is ignored (a hostile one says A1:XFD1048576 and would make the reader pad
every row to 16,384 cells); rows and cells are counted while reading, and reading stops at a
limit with a problem. Values are read as Excel saved them (``data_only``); a formula cell that
has no saved value is a problem, never an empty cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from ..errors import Problem
from .reader import (
    EXCEL_MAX_COLUMNS, EXCEL_MAX_ROWS, ROW, RawDataset, RawTable, ReadLimits, column_letter,
    frame_columns, long_cell_problem, too_large_file,
)
from .schema import exchange_format

__all__ = ["read_workbook", "workbook_problem"]

_NO_SAVED_VALUE = ("a formula without a saved value; open and save the workbook in Excel "
                   "(or LibreOffice), or type the value")


def read_workbook(path: Path, name: str, limits: ReadLimits, raw: RawDataset) -> None:
    """Read the sheets of the workbook at ``path`` (named ``name`` in problems) into ``raw``."""
    import openpyxl

    problem = too_large_file(name, path.stat().st_size, limits) or workbook_problem(path, name, limits)
    if problem is not None:
        raw.problems.append(problem)
        return
    data = path.read_bytes()
    raw.sha256[path.name] = hashlib.sha256(data).hexdigest()
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raw.problems.append(Problem(name, None, None, None,
                                    f"cannot be opened as an .xlsx workbook ({exc}); save it again from Excel"))
        return
    known = set(exchange_format().table_names)
    try:
        for sheet in book.worksheets:
            table_name = sheet.title.strip().lower()
            label = f"{name}[{sheet.title}]"
            if table_name not in known:
                if table_name.startswith("_") or table_name in {"readme", "about"}:
                    continue  # documentation sheets of the template workbook
                raw.problems.append(Problem(label, None, None, None,
                                            f"unknown sheet; the sheets are {', '.join(sorted(known))} "
                                            "(a sheet whose name starts with '_' is ignored)"))
                continue
            if table_name in raw.tables:
                raw.problems.append(Problem(label, None, None, None,
                                            f"a second sheet for the table {table_name}; keep one"))
                continue
            table = _sheet_table(label, table_name, sheet, raw.problems, limits)
            if table is not None:
                raw.tables[table_name] = table
                raw.problems.extend(_formulas_without_value(book, sheet, label, table.header))
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, ValueError, KeyError) as exc:
        raw.problems.append(Problem(name, None, None, None,
                                    f"cannot be read as an .xlsx workbook ({exc}); save it again from Excel"))
    finally:
        book.close()


def workbook_problem(path: Path, name: str, limits: ReadLimits) -> Problem | None:
    """A problem when the workbook's zip would take more work to open than ``limits`` allow."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return Problem(name, None, None, None,
                       f"cannot be opened as an .xlsx workbook ({exc}); save it again from Excel")
    if len(members) > limits.max_workbook_members:
        return Problem(name, None, None, None,
                       f"the workbook holds {len(members):,} files, more than the {limits.max_workbook_members:,} "
                       "allowed; save it again from Excel")
    # zipfile never inflates a member beyond the size its header declares, so the sum bounds
    # what parsing can read
    inflated = sum(m.file_size for m in members)
    if limits.max_uncompressed_bytes is not None and inflated > limits.max_uncompressed_bytes:
        return Problem(name, None, None, None,
                       f"the workbook inflates to {inflated:,} bytes, more than the "
                       f"{limits.max_uncompressed_bytes:,} allowed here; split it or use CSV files")
    size = max(path.stat().st_size, 1)
    if limits.max_compression_ratio is not None and inflated > limits.max_compression_ratio * max(size, 4096):
        return Problem(name, None, None, None,
                       f"the workbook inflates {inflated / size:,.0f} times its size (a zip bomb?), more than "
                       f"the {limits.max_compression_ratio:,.0f} times allowed; save it again from Excel")
    return None


def _sheet_table(label: str, name: str, sheet, problems: list[Problem], limits: ReadLimits) -> RawTable | None:
    sheet.reset_dimensions()  # never pad rows to a declared dimension: count what is there
    max_rows = min(limits.max_rows if limits.max_rows is not None else EXCEL_MAX_ROWS, EXCEL_MAX_ROWS)
    max_columns = min(limits.max_columns, EXCEL_MAX_COLUMNS)
    rows = sheet.iter_rows(values_only=True)
    try:
        header_cells = next(rows)
    except StopIteration:
        return None
    if len(header_cells) > max_columns and header_cells[max_columns:].count(None) != len(header_cells) - max_columns:
        problems.append(Problem(label, 1, None, None,
                                f"the header has more than {max_columns:,} columns, the most allowed here"))
        return None
    header = [_cell_text(c) or "" for c in header_cells[:max_columns]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    records: list[list[str | None]] = []
    numbers: list[int] = []
    cells_read = 0
    for i, cells in enumerate(rows, start=2):
        cells_read += max(len(cells), width)
        if i - 1 > max_rows or (limits.max_cells is not None and cells_read > limits.max_cells):
            what = f"{max_rows:,} rows" if i - 1 > max_rows else f"{limits.max_cells:,} cells"
            problems.append(Problem(label, i, None, None,
                                    f"the sheet has more than {what} (empty but formatted cells count), the "
                                    "most allowed here; delete the unused rows and columns or split the sheet"))
            break
        values = [_cell_text(c) for c in cells[:width]]
        values += [None] * (width - len(values))
        # beyond the header only a value is a problem; the (C-speed) count skips empty padding
        if len(cells) > width and cells[width:].count(None) != len(cells) - width:
            for j, c in enumerate(cells[width:], start=width + 1):
                value = _cell_text(c)
                if value is not None:  # never dropped silently: a value needs a named column
                    problems.append(Problem(label, i, None, value,
                                            f"a value in column {column_letter(j)}, which has no header; "
                                            "give the column a name or remove the value"))
        if all(v is None for v in values):
            continue
        for j, value in enumerate(values):
            if value is not None and len(value) > limits.max_cell_chars:
                problems.append(long_cell_problem(label, i, header[j].strip() or column_letter(j + 1), value,
                                                  limits.max_cell_chars))
        records.append(values)
        numbers.append(i)
    frame = pl.DataFrame(records, schema=[(h, pl.String) for h in frame_columns(width)], orient="row")
    frame = frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return RawTable(name, label, frame, header)


def _formulas_without_value(book, sheet, label: str, header: list[str]) -> list[Problem]:
    """Formula cells that Excel never computed (a file written by a program, not saved by
    Excel): ``data_only`` reads them as empty, which would lose a value silently."""
    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(book, "_archive", None)
    if path is None or archive is None:
        return []
    with archive.open(path) as source:  # a quick look first: most sheets have no formula at all
        if not _contains(source, (b"<f>", b"<f ", b":f>", b":f ")):
            return []
    problems = []
    with archive.open(path) as source:
        for event, element in ElementTree.iterparse(source, events=("end",)):
            if _local(element.tag) == "row":
                element.clear()
                continue
            if _local(element.tag) != "c":
                continue
            children = {_local(child.tag): child for child in element}
            saved = children.get("v")
            # no <v>, or an empty one (which only a text result, t="str", may have: the empty text)
            unsaved = saved is None or (not (saved.text or "") and element.get("t") != "str")
            if "f" in children and unsaved and "is" not in children:
                ref = element.get("r") or ""
                row, column = _split_ref(ref)
                name = header[column - 1] if 0 < column <= len(header) and header[column - 1] else column_letter(column)
                problems.append(Problem(label, row, name.strip(), None, f"{_NO_SAVED_VALUE} (cell {ref})"))
    return problems


def _contains(source, needles: tuple[bytes, ...], chunk: int = 2**20) -> bool:
    """Whether the stream holds one of ``needles``, read in chunks (a needle may straddle two)."""
    tail = b""
    while block := source.read(chunk):
        window = tail + block
        if any(needle in window for needle in needles):
            return True
        tail = block[-8:]
    return False


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _split_ref(ref: str) -> tuple[int | None, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = ref[len(letters):]
    column = 0
    for ch in letters.upper():
        column = column * 26 + ord(ch) - ord("A") + 1
    return (int(digits) if digits.isdigit() else None), column


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
