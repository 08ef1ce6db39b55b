"""The template workbook: every sheet of the exchange format (version 1.1: the tables and
columns it added are marked so), with a sheet that explains it."""

from __future__ import annotations

from pathlib import Path

from ..vocabulary import anatomy, drugs, lab_tests
from .dataset import Dataset
from .schema import ColumnSpec, exchange_format
from .writer import write_workbook

__all__ = ["column_description", "write_template"]

_TYPE_TEXT = {
    "id": "identifier (case-sensitive)", "text": "text", "date": "date YYYY-MM-DD",
    "partial_date": "date YYYY-MM-DD or YYYY-MM", "boolean": "yes/no",
    "number": "number", "integer": "whole number", "lab_value": "number, or censored such as <0.5",
    "choice": "one of", "drug": "drug (generic or brand name)", "lab_test": "lab test",
    "bone": "bone (site vocabulary)", "lab_unit": "unit suiting the test",
}


def column_description(spec: ColumnSpec) -> str:
    text = _TYPE_TEXT[spec.type]
    if spec.choices:
        text += " " + ", ".join(spec.choices)
    if spec.min is not None or spec.max is not None:
        low = "" if spec.min is None else f"{spec.min:g}"
        high = "" if spec.max is None else f"{spec.max:g}"
        text += f" ({low} to {high})" if low and high else (f" (at least {low})" if low else f" (at most {high})")
    if spec.references:
        text += f"; must exist in {spec.references}"
    return text


def write_template(path: str | Path) -> Path:
    """Write an empty exchange-format workbook with a ``_README`` sheet describing every column."""
    path = Path(path)
    fmt = exchange_format()
    lines = [
        f"cnotrack exchange format, version {fmt.version}: fill one sheet per table; the header row is row 1.",
        "Sheets whose name starts with '_' are ignored on import. Empty cell = missing value.",
        "Tables and columns marked 'since 1.1' are optional; a sheet or column you do not use may be",
        "left empty or removed (a version 1 workbook is still read as it is).",
        "",
    ]
    for table in fmt.tables:
        since = f" (since {table.since})" if table.since else ""
        lines.append(f"{table.name}{' (required)' if table.required else ''}{since}")
        for col in table.columns:
            need = "required" if col.required else "optional"
            added = f" (since {col.since})" if col.since else ""
            lines.append(f"    {col.name}: {need}{added}; {column_description(col)}")
        lines.append("")
    lines.append("Lab units: " + "; ".join(f"{t.code} {', '.join(t.units)}" for t in lab_tests().tests))
    vocab = [
        "Bones (canonical names; synonyms are accepted):",
        *[f"    {b.name} ({b.region}, {b.laterality})" for b in anatomy().bones],
        "",
        "Drugs (generic names; brand names are accepted):",
        *[f"    {d.name} ({d.drug_class}{', ' + d.atc if d.atc else ''})" for d in drugs().drugs],
    ]
    write_workbook(Dataset({}), path, notes={"_README": lines, "_vocabularies": vocab}, every_column=True)
    return path
