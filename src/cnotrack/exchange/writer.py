"""Write a dataset in the exchange format, deterministically.

Rows are sorted by each table's key, numbers are written in their shortest exact form
(``2`` not ``2.0``), dates as ISO 8601, booleans as yes/no, censored lab values as ``<0.5``,
and extra attributes kept at import as columns after the standard ones. Writing the same
data twice gives the same bytes, for CSV folders and for workbooks alike.

What the format added after version 1 (``since`` in ``format.yaml``) is written only where it
holds a value: a column when some row has one, a table when it has rows. An extension column
(``patients.synthetic``) follows the column rule. So data that uses none of it is written
exactly as version 1 wrote it: the same files, the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path


from ..errors import DatasetError
from .dataset import EXTRA, Dataset, column_named_extras
from .schema import exchange_format
from .spreadsheet import spreadsheet_safe

__all__ = ["export_dataset", "table_rows", "written_tables", "write_csv_folder", "write_workbook"]

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def export_dataset(dataset: Dataset, target: str | Path) -> Path:
    """Write ``dataset`` to a folder of CSV files, or to a workbook when ``target`` ends in .xlsx."""
    target = Path(target)
    if target.suffix.lower() == ".xlsx":
        write_workbook(dataset, target)
    else:
        write_csv_folder(dataset, target)
    return target


def format_cell(value: object) -> str:
    """One cell as the exchange format writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def table_rows(dataset: Dataset, name: str, *, every_column: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows of one table, sorted by the table's key. An extension column,
    or one added after version 1, that no row uses is left out unless ``every_column`` (the
    template shows every column)."""
    spec = exchange_format().table(name)
    frame = dataset[name]
    key = list(spec.key)
    frame = frame.sort(key, nulls_last=False)
    # an extension or 1.1 column that no row uses is not written (the file stays a version 1 file)
    columns = [c.name for c in spec.columns
               if every_column or not (c.written_only_with_values
                                       and frame.get_column(c.name).null_count() == frame.height)]
    extras: list[dict[str, str]] = []
    extra_names: list[str] = []
    if EXTRA in frame.columns:
        extras = [json.loads(x) if x else {} for x in frame[EXTRA].to_list()]
        extra_names = sorted({k for e in extras for k in e})
        if set(extra_names) & set(spec.column_names):  # a file with the column twice could not be read
            raise DatasetError([p for p in column_named_extras(dataset) if p.table == name], source=dataset.source)
    records = frame.select([c for c in columns] + (["censor"] if name == "labs" else [])).rows(named=True)
    rows: list[list[str]] = []
    for i, record in enumerate(records):
        cells = []
        for col in columns:
            text = format_cell(record[col])
            if col == "value" and name == "labs" and record.get("censor"):
                text = record["censor"] + text
            cells.append(text)
        if extra_names:
            cells.extend(extras[i].get(k, "") for k in extra_names)
        rows.append(cells)
    return columns + extra_names, rows


def written_tables(dataset: Dataset, *, every_table: bool = False) -> list[str]:
    """The tables an export writes, in the format's order: every version 1 table (empty or
    not), and a table added after version 1 only when it has rows (or with ``every_table``,
    as the template does)."""
    return [spec.name for spec in exchange_format().tables
            if every_table or spec.since is None or dataset[spec.name].height > 0]


def write_csv_folder(dataset: Dataset, folder: Path) -> None:
    """One CSV file per table; every cell through ``spreadsheet_safe``, so that a spreadsheet
    shows a cell such as ``=1+2`` as that text and never runs it (reading undoes it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in written_tables(dataset):
        header, rows = table_rows(dataset, name)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([spreadsheet_safe(cell) for cell in header])
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        (folder / f"{name}.csv").write_bytes(buffer.getvalue().encode("utf-8"))


def write_workbook(dataset: Dataset, path: Path, *, notes: dict[str, list[str]] | None = None,
                   every_column: bool = False) -> None:
    """Write one sheet per table (all cells as text, so nothing is reinterpreted by Excel)."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in written_tables(dataset, every_table=every_column):
        sheet = book.create_sheet(name)
        header, rows = table_rows(dataset, name, every_column=every_column)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            if cell.data_type == "f":
                cell.data_type = "s"
        for number, row in enumerate(rows, start=2):
            sheet.append([c if c != "" else None for c in row])
            # the row's cells by position (``sheet[sheet.max_row]`` scans every cell: quadratic)
            for cell in (sheet.cell(row=number, column=i) for i in range(1, len(header) + 1)):
                cell.number_format = "@"
                if cell.data_type == "f":  # openpyxl takes text starting with '=' for a formula
                    cell.data_type = "s"
        for i, col in enumerate(header, start=1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width = max(12, len(col) + 2)
        sheet.freeze_panes = "A2"
    for title, lines in (notes or {}).items():
        sheet = book.create_sheet(title)
        for line in lines:
            sheet.append([line])
        sheet.column_dimensions["A"].width = 110
    fixed = dt.datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "cnotrack"
    buffer = io.BytesIO()
    book.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalise_zip(buffer.getvalue()))


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps, so the same workbook gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            target.writestr(fixed, content)
    return out.getvalue()
