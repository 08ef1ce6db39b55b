"""Load an OMOP export into DuckDB or PostgreSQL with the official CDM v5.4 DDL.

cnotrack does not ship the DDL (it is OHDSI's, Apache-2.0): ``ddl_dir`` is a folder of the
official files ``OMOPCDM_<dialect>_5.4_{ddl,primary_keys,constraints}.sql`` from
OHDSI/CommonDataModel ``inst/ddl/5.4/<dialect>/``, whose ``@cdmDatabaseSchema`` is replaced by
the schema. The steps are the CDM's own: create the tables, load the rows (the vocabulary, then
the export's CSV files), add the primary keys, then the foreign keys. PostgreSQL adds every
foreign-key constraint, so a dangling id fails the load; DuckDB cannot add a foreign key to a
table that exists, so each constraint of the file is checked as an anti-join instead and any
violation fails the load the same way.

The clinical tables refer to CONCEPT for every ``*_concept_id``. With ``vocabulary`` (an Athena
download) its files are loaded; without it, ``load_omop`` writes one placeholder row per concept
id the export uses (all of them verified ids or 0), in a vocabulary named ``cnotrack`` whose name
says it is a placeholder, so that the keys hold; load Athena's vocabulary for real analyses.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import StoreError
from .concepts import verified_concepts
from .export import OMOP_TABLES, OmopExport, _write_csv_files

__all__ = ["ATHENA_TABLES", "OmopLoad", "load_omop"]

#: Athena files loaded when a vocabulary folder is given, in load order
ATHENA_TABLES = ("concept", "vocabulary", "domain", "concept_class", "relationship", "concept_relationship",
                 "concept_synonym", "concept_ancestor", "drug_strength")
_FOREIGN_KEY = re.compile(r"ALTER TABLE\s+(\S+)\s+ADD CONSTRAINT\s+(\S+)\s+FOREIGN KEY\s*\((\w+)\)\s*"
                          r"REFERENCES\s+(\S+)\s*\((\w+)\)", re.IGNORECASE)
_PRIMARY_KEY = re.compile(r"ALTER TABLE\s+(\S+)\s+ADD CONSTRAINT\s+(\S+)\s+PRIMARY KEY\s*\((\w+)\)", re.IGNORECASE)
_PLACEHOLDER = "cnotrack"


@dataclass
class OmopLoad:
    """What ``load_omop`` did: the dialect, the schema, rows per table, foreign keys enforced."""

    dialect: str
    schema: str
    rows: dict[str, int] = field(default_factory=dict)
    foreign_keys: int = 0
    placeholder_concepts: int = 0
    #: "table.column" -> how many values the database holds rounded (DuckDB's NUMERIC is DECIMAL(18,3))
    rounded: dict[str, int] = field(default_factory=dict)
    #: what the load changed or could not keep, in words (printed by the command line)
    notes: list[str] = field(default_factory=list)


def _ddl(ddl_dir: Path, dialect: str, part: str, schema: str) -> str:
    path = Path(ddl_dir) / f"OMOPCDM_{dialect}_5.4_{part}.sql"
    if not path.is_file():
        raise StoreError(f"{path}: not found; ddl_dir must hold the official OMOP CDM 5.4 {dialect} files "
                         f"(OHDSI/CommonDataModel, inst/ddl/5.4/{dialect}/)")
    return path.read_text(encoding="utf-8").replace("@cdmDatabaseSchema", schema)


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _placeholder_rows(export: OmopExport) -> dict[str, list[tuple]]:
    known = verified_concepts()
    unknown = sorted(set(export.concept_ids) - set(known))
    if unknown:
        raise StoreError(f"the export holds concept ids from a vocabulary ({', '.join(map(str, unknown[:5]))}"
                         f"{' ...' if len(unknown) > 5 else ''}); pass vocabulary= the same Athena folder")
    concepts = [known[i] for i in sorted(export.concept_ids)]
    return {
        "concept": [(c.concept_id, c.name, c.domain, _PLACEHOLDER, _PLACEHOLDER, None, c.code,
                     "1970-01-01", "2099-12-31", None) for c in concepts],
        "vocabulary": [(_PLACEHOLDER, "cnotrack placeholder concepts: load an Athena vocabulary to replace them",
                        None, None, 0)],
        "domain": [(d, d, 0) for d in sorted({c.domain for c in concepts})],
        "concept_class": [(_PLACEHOLDER, "cnotrack placeholder", 0)],
    }


def load_omop(export: OmopExport, url: str, *, ddl_dir: Path, schema: str | None = None,
              vocabulary: Path | None = None) -> OmopLoad:
    """Create the OMOP CDM v5.4 schema at ``url`` (``duckdb:FILE`` or ``postgresql://...``) from
    the official DDL in ``ddl_dir`` and load ``export`` into it, with primary and foreign keys.

    ``schema`` defaults to DuckDB's ``main`` and PostgreSQL's current schema (the connection's
    ``search_path``). ``vocabulary`` defaults to the folder the export was resolved with.
    Raises ``StoreError`` when the DDL is missing, a row does not load or a key does not hold.
    """
    vocabulary = Path(vocabulary) if vocabulary else export.vocabulary
    with tempfile.TemporaryDirectory(prefix="cnotrack-omop-") as scratch:
        folder = export.directory or _write_csv_files(export, Path(scratch))
        if url.startswith("duckdb:"):
            from ._duckdb import load_duckdb
            return load_duckdb(export, url.removeprefix("duckdb:").removeprefix("//"), folder,
                               ddl_dir=Path(ddl_dir), schema=schema or "main", vocabulary=vocabulary)
        if url.split("://", 1)[0] in ("postgresql", "postgres", "postgresql+psycopg"):
            from ._postgres import load_postgres
            return load_postgres(export, "postgresql://" + url.split("://", 1)[1], folder,
                                 ddl_dir=Path(ddl_dir), schema=schema, vocabulary=vocabulary)
    raise StoreError("--load: not a database URL load_omop knows (its text is not shown, as it may hold a password); "
                     "use duckdb:FILE or postgresql://...")


def tables_in_order(export: OmopExport) -> list[str]:
    return [t for t in OMOP_TABLES if t in export.tables]


def athena_files(vocabulary: Path) -> list[tuple[str, Path]]:
    folder = Path(vocabulary)
    return [(t, folder / f"{t.upper()}.csv") for t in ATHENA_TABLES if (folder / f"{t.upper()}.csv").is_file()]


def foreign_keys(sql: str) -> list[tuple[str, str, str, str, str]]:
    """``(table, constraint, column, referenced table, referenced column)`` of each constraint."""
    return [m.groups() for m in _FOREIGN_KEY.finditer(sql)]


def primary_key(statement: str) -> tuple[str, str, str] | None:
    """``(table, constraint, column)`` of a primary-key statement of the DDL, else ``None``."""
    match = _PRIMARY_KEY.search(statement)
    return match.groups() if match else None


def _bare(table: str) -> str:
    """A table's name as the CDM spells it (the DDL writes some references in capitals)."""
    return table.rsplit(".", 1)[-1].lower()


def first_duplicate_sql(table: str, column: str) -> str:
    """The smallest value of ``table.column`` held by more than one row, and how many rows hold it."""
    return (f"SELECT {column}, count(*) FROM {table} GROUP BY {column} HAVING count(*) > 1 "
            f"ORDER BY {column} LIMIT 1")


def duplicate_message(table: str, constraint: str, column: str, value: object, count: int) -> str:
    return (f"primary key {constraint} of {_bare(table)} does not hold: {_bare(table)}.{column} {value} is in "
            f"{count} rows (the smallest duplicated value); each row needs its own {column}")


def dangling_sql(table: str, column: str, parent: str, key: str) -> str:
    """How many rows of ``table`` refer to no row of ``parent``, and the smallest such value."""
    return (f"SELECT count(*), min(c.{column}) FROM {table} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{key} = c.{column})")


def dangling_message(table: str, constraint: str, column: str, parent: str, key: str, count: int,
                     value: object) -> str:
    return (f"foreign key {constraint} of {_bare(table)}: {count} row(s) of {_bare(table)}.{column} not in "
            f"{_bare(parent)}.{key.lower()} (the first dangling value: {value})")
