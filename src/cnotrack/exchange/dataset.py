"""A validated dataset: one typed Polars table per exchange-format table."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import polars as pl

from ..errors import Problem
from .schema import ColumnSpec, exchange_format

__all__ = ["Dataset", "EXTRA", "ROW", "column_named_extras", "empty_table", "polars_type", "subset"]

ROW = "_row"
EXTRA = "_extra"

_TYPES: dict[str, pl.DataType] = {
    "id": pl.String, "text": pl.String, "date": pl.Date, "partial_date": pl.String,
    "boolean": pl.Boolean, "number": pl.Float64, "integer": pl.Int64, "lab_value": pl.Float64,
    "choice": pl.String, "drug": pl.String, "lab_test": pl.String, "bone": pl.String,
    "lab_unit": pl.String,
}


def column_named_extras(dataset: "Dataset") -> list[Problem]:
    """The extra attributes that have the name of a column of their table: a column that a later
    format version added (``race_ethnicity``, 1.1) under which version 1 kept a file's unknown
    column. Such a value must be given as the column; writing both would make a file with the
    column twice. One problem per table and name, with the first row that has it."""
    problems: list[Problem] = []
    for name, frame in dataset.tables.items():
        if EXTRA not in frame.columns or frame.height == 0:
            continue
        for column in exchange_format().table(name).column_names:
            # the rows whose JSON may have the key (a value holds a quote only escaped), then their JSON read
            maybe = frame.filter(frame[EXTRA].str.contains(f'"{re.escape(column)}"\\s*:').fill_null(False))
            holding = [row for row in maybe.select(ROW if ROW in maybe.columns else pl.lit(None).alias(ROW), EXTRA)
                       .iter_rows(named=True) if column in json.loads(row[EXTRA])]
            if holding:
                first = holding[0]
                problems.append(Problem(
                    name, first.get(ROW), column, None,
                    f"an extra attribute has the name of the column {column!r}, which the exchange format "
                    "has since version 1.1; give the value in that column instead (the migration of the "
                    "database to format 1.1 moves such values itself)"))
    return problems


def polars_type(spec: ColumnSpec) -> pl.DataType:
    return _TYPES[spec.type]


def empty_table(name: str) -> pl.DataFrame:
    """A table of the exchange format with its typed columns and no rows."""
    spec = exchange_format().table(name)
    schema: dict[str, pl.DataType] = {c.name: polars_type(c) for c in spec.columns}
    if name == "labs":
        schema = _with_censor(schema)
    return pl.DataFrame(schema=schema)


def _with_censor(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    out: dict[str, pl.DataType] = {}
    for key, dtype in schema.items():
        out[key] = dtype
        if key == "value":
            out["censor"] = pl.String
    return out


@dataclass
class Dataset:
    """Typed tables of the exchange format.

    Each table has the exchange format's columns with their types (dates as ``pl.Date``,
    booleans, numbers), vocabulary values in their canonical form, and for ``labs`` a
    ``censor`` column (``<``, ``>`` or null) beside ``value``. A table read from a file
    also has ``_row`` (its spreadsheet row) and, when extra columns were kept, ``_extra``
    (a JSON object of the extra cells). Missing tables are empty.
    """

    tables: dict[str, pl.DataFrame]
    source: str = ""
    sha256: dict[str, str] = field(default_factory=dict)
    #: per table read from a file, the exchange-format columns the file had (``censor`` with
    #: ``value`` in labs); a table not named here has every column (e.g. a dataset built in Python)
    columns_present: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in exchange_format().table_names:
            if name not in self.tables:
                self.tables[name] = empty_table(name)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    @property
    def patients(self) -> pl.DataFrame:
        return self.tables["patients"]

    def row_counts(self) -> dict[str, int]:
        return {name: frame.height for name, frame in self.tables.items()}


def subset(dataset: Dataset, patient_ids: list[str]) -> Dataset:
    """The part of ``dataset`` that belongs to ``patient_ids`` (lesions through their studies)."""
    keep = pl.Series(patient_ids, dtype=pl.String).implode()
    tables = {}
    for name, frame in dataset.tables.items():
        if "patient_id" in frame.columns:
            tables[name] = frame.filter(pl.col("patient_id").is_in(keep))
    studies = tables["imaging"]["study_id"].implode()
    tables["lesions"] = dataset["lesions"].filter(pl.col("study_id").is_in(studies))
    return Dataset(tables, source=dataset.source, sha256=dict(dataset.sha256),
                   columns_present=dict(dataset.columns_present))
