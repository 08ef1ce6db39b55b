"""The exchange format's tables and columns, loaded from ``format.yaml``.

The format is versioned: version 1 is the contract of the project specification, version 1.1
adds what CNO registries record (``since: "1.1"`` on a table or a column). Whatever a later
version adds is optional, so that every version 1 dataset stays valid, and is written (and
counted in the dataset's fingerprint) only when it holds a value, so that data that does not
use it exports exactly as version 1 wrote it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..datafiles import safe_yaml
from ..vocabulary import normalise_key

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
    #: the format version that added the column (``"1.1"``); ``None``: version 1. Like an
    #: extension column it is optional and written only when some row of the table has a value
    since: str | None = None

    @property
    def written_only_with_values(self) -> bool:
        """Whether the column is left out of a file (and of the fingerprint, for ``since``)
        when no row has a value: an extension column or one added after version 1."""
        return self.extension or self.since is not None

    @model_validator(mode="after")
    def _consistent(self) -> "ColumnSpec":
        if self.since is not None and self.required:
            raise ValueError(f"column {self.name}: a column added in version {self.since} cannot be required "
                             "(a version 1 dataset would no longer be valid)")
        known = {normalise_key(c): c for c in self.choices}
        for alias, value in self.aliases.items():
            if value not in self.choices:
                raise ValueError(f"column {self.name}: alias {alias!r} names {value!r}, not one of the choices")
            other = known.get(normalise_key(alias), value)
            if other != value:
                raise ValueError(f"column {self.name}: alias {alias!r} names {value!r} but is spelled as the "
                                 f"choice {other!r}; remove it")
        return self


class TableSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    required: bool = False
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    #: the format version that added the table (``"1.1"``); ``None``: version 1. Such a table
    #: is written, and counted in the fingerprint, only when it has rows
    since: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "TableSpec":
        if self.since is not None and self.required:
            raise ValueError(f"table {self.name}: a table added in version {self.since} cannot be required")
        missing = [k for k in self.key if k not in self.column_names]
        if missing:
            raise ValueError(f"table {self.name}: the key names {', '.join(missing)}, not columns of the table")
        return self

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def later_columns(self) -> tuple[str, ...]:
        """The columns a format version after 1 added (``since``): content only where they hold a
        value, for the fingerprint and the row hash alike."""
        return tuple(c.name for c in self.columns if c.since is not None)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


class ExchangeFormat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``"1"`` or ``"1.1"`` (a YAML number is read as its text)
    version: str
    tables: tuple[TableSpec, ...]

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _versions(self) -> "ExchangeFormat":
        def number(version: str) -> tuple[int, ...]:
            return tuple(int(part) for part in version.split("."))

        for table in self.tables:
            for where, since in [(table.name, table.since)] + [(f"{table.name}.{c.name}", c.since)
                                                                for c in table.columns]:
                if since is not None and number(since) > number(self.version):
                    raise ValueError(f"{where}: since {since} is later than the format's version {self.version}")
        return self

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
