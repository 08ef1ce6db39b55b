"""The exchange format's tables and columns, loaded from ``format.yaml``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..datafiles import safe_yaml

__all__ = ["ColumnSpec", "ExchangeFormat", "TableSpec", "exchange_format"]

ColumnType = Literal[
    "id", "text", "date", "partial_date", "boolean", "number", "integer",
    "lab_value", "choice", "drug", "lab_test", "bone", "lab_unit",
]


class ColumnSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: ColumnType
    required: bool = False
    references: str | None = None
    choices: tuple[str, ...] = ()
    aliases: dict[str, str] = {}
    min: float | None = None
    max: float | None = None
    #: a column cnotrack adds beyond the exchange format's version 1 (docs/exchange-format.md):
    #: optional on reading, and written only when some row of the table has a value, so that an
    #: export of data that does not use it is exactly a version 1 file
    extension: bool = False


class TableSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    required: bool = False
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


class ExchangeFormat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    tables: tuple[TableSpec, ...]

    def table(self, name: str) -> TableSpec:
        return next(t for t in self.tables if t.name == name)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)


@cache
def exchange_format() -> ExchangeFormat:
    """The exchange format definition shipped with cnotrack."""
    text = resources.files("cnotrack.exchange").joinpath("format.yaml").read_text("utf-8")
    return ExchangeFormat.model_validate(safe_yaml(text))
