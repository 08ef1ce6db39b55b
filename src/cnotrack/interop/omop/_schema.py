"""The OMOP CDM v5.4 tables cnotrack writes: their columns in DDL order, types and widths.

The names and order come from ``columns.yaml`` (a list of facts of the CDM, checked against the
official field specification by a test), so the exporter needs no file outside the package at
run time. Types follow from the names the CDM uses (``*_date`` is a date, ``*_id`` an integer)
with the few exceptions spelled out here; the varchar widths are in ``columns.yaml``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from ...datafiles import safe_yaml

__all__ = ["column_names", "column_type", "empty_frame", "omop_frame", "width"]

#: varchar(MAX) columns (no width in columns.yaml)
_UNBOUNDED_TEXT = frozenset({"sig", "source_description"})
#: float columns of the tables cnotrack writes (procedure_occurrence.quantity is an integer)
_FLOATS = frozenset({"value_as_number", "range_low", "range_high"})
_FLOAT_QUANTITY = frozenset({"drug_exposure", "specimen"})


@cache
def _columns_file() -> dict[str, Any]:
    text = resources.files("cnotrack.interop.omop").joinpath("columns.yaml").read_text(encoding="utf-8")
    return safe_yaml(text)


def column_names(table: str) -> list[str]:
    """The columns of ``table`` in the order of the official DDL."""
    return list(_columns_file()["tables"][table])


def width(table: str, column: str) -> int | None:
    """The declared length of a varchar column, or ``None`` for other columns."""
    return _columns_file()["widths"].get(table, {}).get(column)


def column_type(table: str, column: str) -> pl.DataType:
    """The Polars type cnotrack writes ``table.column`` as."""
    if width(table, column) is not None or column in _UNBOUNDED_TEXT:
        return pl.String
    if column.endswith("_datetime"):
        return pl.Datetime
    if column.endswith("_date"):
        return pl.Date
    if column in _FLOATS or (column == "quantity" and table in _FLOAT_QUANTITY):
        return pl.Float64
    return pl.Int64


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema={c: column_type(table, c) for c in column_names(table)})


def omop_frame(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as ``table``: every column of the DDL, in order, with its type; a column the
    frame lacks is null (columns starting with ``_`` are the exporter's bookkeeping and are not
    written)."""
    names = column_names(table)
    unknown = {c for c in frame.columns if not c.startswith("_")} - set(names)
    if unknown:  # a programming error of the exporter, not a data problem
        raise KeyError(f"{table} has no column {sorted(unknown)}")
    return frame.select(pl.col(c).cast(column_type(table, c)) if c in frame.columns
                        else pl.lit(None, dtype=column_type(table, c)).alias(c) for c in names)
