"""The per-patient listing of a large cohort: the first rows in the report, every row in a CSV.

A listing table of more than :data:`LISTING_MAX_ROWS` rows (one per eligible patient) shows its
first :data:`LISTING_MAX_ROWS` in the HTML page, the PDF and the Word file, and says how many
rows it has and where they all are: a CSV file per table, ``<table id>.csv`` (for example
``listing-values.csv``), attached to the PDF (a PDF viewer lists it among the document's
attachments) and written beside an HTML or Word report as ``<report name>.<table id>.csv``
(``--out results/report.html`` writes ``results/report.listing-values.csv``).

A CSV holds exactly the table the report would show, header and cells as the report prints
them, nothing more (no birth date, no other column of the dataset); the header of a column under
a timepoint names the timepoint (``Baseline ESR``). Every cell goes through the rule of
:mod:`cnotrack.exchange.spreadsheet` (a cell that a spreadsheet would run as a formula gets a
leading ``'``), applied as a Polars expression; the file is UTF-8 with ``\\n`` line ends, as the
CSVs cnotrack writes elsewhere.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl

from ..exchange.spreadsheet import spreadsheet_safe, spreadsheet_safe_expr
from .model import Report, ReportTable

__all__ = ["LISTING_MAX_ROWS", "capped_listing", "listing_csv", "listing_file_name", "listing_files",
           "listing_note", "side_file_path"]

#: A listing table shows at most this many rows in a report; all of them go to its CSV file.
LISTING_MAX_ROWS = 100

def capped_listing(tables: list[ReportTable], limit: int | None = None) -> tuple[list[ReportTable], list[ReportTable]]:
    """The tables as the report shows them (a table of more than ``limit`` rows, default
    :data:`LISTING_MAX_ROWS`, cut to its first ``limit``, with ``total_rows`` set), and the full
    tables that were cut."""
    limit = LISTING_MAX_ROWS if limit is None else limit
    shown, full = [], []
    for table in tables:
        if len(table.rows) > limit:
            shown.append(dataclasses.replace(table, rows=table.rows[:limit], total_rows=len(table.rows)))
            full.append(table)
        else:
            shown.append(table)
    return shown, full


def listing_file_name(table: ReportTable) -> str:
    """The name of a listing table's CSV attachment: ``<table id>.csv``."""
    return f"{table.id}.csv"


def side_file_path(report_path: str | Path, table: ReportTable) -> Path:
    """Where the CSV of ``table`` is written beside the report ``report_path`` (HTML, Word)."""
    report_path = Path(report_path)
    return report_path.with_name(f"{report_path.stem}.{listing_file_name(table)}")


def listing_files(report: Report, report_path: str | Path) -> list[Path]:
    """The CSV files that writing ``report`` to ``report_path`` puts beside it (none for a PDF,
    which carries them as attachments, or for Markdown, which has no listing)."""
    if Path(report_path).suffix.lower() not in (".html", ".docx"):
        return []
    return [side_file_path(report_path, t) for t in report.listing_full]


def _column_names(table: ReportTable) -> list[str]:
    groups = [label for label, span in table.header_groups for _ in range(span)] or [""] * len(table.header)
    names: list[str] = []
    for group, head in zip(groups, table.header):
        name = f"{group} {head}".strip()
        while name in names:
            name += " (again)"
        names.append(name)
    return names


def listing_csv(table: ReportTable) -> bytes:
    """The whole table as CSV bytes (header, then every row), spreadsheet-safe."""
    names = _column_names(table)
    frame = pl.DataFrame(list(table.rows), schema={n: pl.String for n in names}, orient="row")
    frame = frame.select(spreadsheet_safe_expr(pl.col(n)).alias(spreadsheet_safe(n)) for n in names)
    return frame.write_csv(line_terminator="\n").encode("utf-8")


def listing_note(table: ReportTable, place: str | None) -> str:
    """What a cut table says under itself: how many rows it shows, how many it has, and where
    they all are (``place``: ``"pdf"``, the name of the report file, or ``None`` when unknown)."""
    n = table.total_rows or len(table.rows)
    name = listing_file_name(table)
    if place == "pdf":
        where = f"in the file {name} attached to this PDF (see your PDF viewer's attachments)"
    elif place:
        where = f"in the file {Path(place).stem}.{name} written beside this report"
    else:
        where = f"in the CSV file {name} that comes with this report"
    return (f"This table shows the first {len(table.rows)} of its {n:,} rows (patients sorted by id); all "
            f"{n:,} rows are {where}.")
