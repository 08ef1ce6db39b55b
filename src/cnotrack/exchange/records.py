"""Validate one record (a web form, a JSON body) with exactly the rules of a dataset file.

A record is checked as a one-row table of the exchange format: the same cell parsers
(``cells``), the same ranges and vocabularies, the same rules that tie the columns of a row
together (``rules``). What needs other rows (the patient a treatment refers to, a key already
taken) is the caller's to check against the database (``cnotrack.records``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from ..errors import Problem
from .dataset import ROW
from .reader import RawTable
from .rules import canonical_lab_units, cross_field_problems
from .schema import exchange_format
from .validate import _OK, _type_table

__all__ = ["cell_text", "validate_record"]


def cell_text(value: object) -> str | None:
    """A JSON or form value as the text of a spreadsheet cell (``None`` for an empty one)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return value if value.strip() else None
    raise TypeError(type(value).__name__)


def validate_record(table: str, values: Mapping[str, object], *,
                    related: Mapping[str, pl.DataFrame] | None = None) -> tuple[dict[str, object] | None, list[Problem]]:
    """The typed record (canonical values, Python types) and its problems for one row of
    ``table``; the record is ``None`` when there is a problem.

    ``values`` maps column names to text, numbers, booleans or ``None``; a missing column is
    empty. ``related`` gives typed tables a rule needs besides this row (the patient's
    ``assessments`` for a ``chaq`` row). Each problem names the column and the value given
    (``table`` is the table's name, ``row`` is ``None``).
    """
    spec = exchange_format().table(table)
    problems: list[Problem] = []
    known = set(spec.column_names) | ({"censor"} if table == "labs" else set())
    for name in sorted(set(values) - known):
        problems.append(Problem(table, None, name, None,
                                f"unknown field; the fields of {table} are {', '.join(spec.column_names)}"))
    cells: dict[str, str | None] = {}
    for column in spec.columns:
        try:
            cells[column.name] = cell_text(values.get(column.name))
        except TypeError:
            problems.append(Problem(table, None, column.name, str(values.get(column.name)),
                                    "not a single value; give text, a number or yes/no"))
            cells[column.name] = None
    if table == "labs" and values.get("censor") not in (None, "") and cells["value"] is not None:
        censor = str(values["censor"]).strip()
        if censor not in ("<", ">"):
            problems.append(Problem(table, None, "censor", censor, "use < or > (or leave it empty)"))
        elif not cells["value"].lstrip().startswith(("<", ">")):
            cells["value"] = censor + cells["value"]
    frame = pl.DataFrame({**{name: [cell] for name, cell in cells.items()}, ROW: [1]},
                         schema={**{name: pl.String for name in cells}, ROW: pl.Int64})
    raw = RawTable(table, table, frame.select(*cells, ROW), list(cells))
    cell_problems: list[Problem] = []
    typed = _type_table(raw, spec, False, cell_problems)
    problems.extend(cell_problems)
    if typed is None or cell_problems:
        return None, _without_row(problems)
    typed = typed.drop(_OK)
    tables = {table: typed, **{k: v.with_columns(pl.lit(0, pl.Int64).alias(ROW)) if ROW not in v.columns else v
                               for k, v in (related or {}).items()}}
    problems.extend(p for p in cross_field_problems(tables, {name: name for name in tables}) if p.table == table)
    if problems:
        return None, _without_row(problems)
    if table == "labs":
        typed = canonical_lab_units(typed)
    return typed.drop(ROW).row(0, named=True), []


def _without_row(problems: list[Problem]) -> list[Problem]:
    return [Problem(p.table, None, p.column, p.value, p.message) for p in problems]
