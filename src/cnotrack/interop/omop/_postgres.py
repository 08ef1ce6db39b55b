"""``load_omop`` for PostgreSQL: the DDL, COPY via psycopg, primary keys and every foreign key,
in one transaction (a failure leaves nothing behind)."""

from __future__ import annotations

from pathlib import Path

from ...errors import StoreError
from .export import OmopExport
from .load import (OmopLoad, _ddl, _placeholder_rows, _statements, athena_files, dangling_message, dangling_sql,
                   duplicate_message, first_duplicate_sql, foreign_keys, primary_key, tables_in_order)

__all__ = ["load_postgres"]


def load_postgres(export: OmopExport, url: str, folder: Path, *, ddl_dir: Path, schema: str | None,
                  vocabulary: Path | None) -> OmopLoad:
    import psycopg

    try:
        connection = psycopg.connect(url)
    except psycopg.Error as error:
        raise StoreError(f"the PostgreSQL server cannot be reached ({type(error).__name__}); check the URL") from error
    try:
        with connection.transaction(), connection.cursor() as cursor:
            if schema is None:
                schema = cursor.execute("SELECT current_schema()").fetchone()[0]
            else:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            report = OmopLoad("postgresql", schema)
            for statement in _statements(_ddl(ddl_dir, "postgresql", "ddl", schema)):
                cursor.execute(statement)
            if vocabulary is not None:
                for table, path in athena_files(vocabulary):
                    header = path.open(encoding="utf-8").readline().rstrip("\r\n").split("\t")
                    _copy(cursor, f"COPY {schema}.{table} ({', '.join(header)}) FROM STDIN WITH "
                          "(FORMAT csv, HEADER true, DELIMITER E'\\t', QUOTE E'\\b')", path)
            else:
                placeholders = _placeholder_rows(export)
                report.placeholder_concepts = len(placeholders["concept"])
                for table, rows in placeholders.items():
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cursor.executemany(f"INSERT INTO {schema}.{table} VALUES ({marks})", rows)
            for table in tables_in_order(export):
                _copy(cursor, f"COPY {schema}.{table} FROM STDIN WITH (FORMAT csv, HEADER true)",
                      folder / f"{table}.csv")
                report.rows[table] = cursor.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            for statement in _statements(_ddl(ddl_dir, "postgresql", "primary_keys", schema)):
                _add_key(connection, cursor, statement, schema)
            constraints = _ddl(ddl_dir, "postgresql", "constraints", schema)
            for statement in _statements(constraints):
                _add_key(connection, cursor, statement, schema)
            report.foreign_keys = len(foreign_keys(constraints))
    except psycopg.Error as error:
        raise StoreError(f"PostgreSQL schema {schema}: the OMOP load failed: {error}") from error
    finally:
        connection.close()
    return report


def _copy(cursor, sql: str, path: Path) -> None:
    with cursor.copy(sql) as copy, path.open("rb") as source:
        while chunk := source.read(1 << 20):
            copy.write(chunk)


def _add_key(connection, cursor, statement: str, schema: str) -> None:
    """Add one primary or foreign key in a savepoint; when the data break it, fail the load naming
    the table, the constraint and the smallest duplicated or dangling value."""
    import psycopg

    try:
        with connection.transaction():
            cursor.execute(statement)
    except psycopg.errors.IntegrityError as error:
        pk, fks = primary_key(statement), foreign_keys(statement)
        if pk:
            found = cursor.execute(first_duplicate_sql(pk[0], pk[2])).fetchone()
            if found:
                raise StoreError(f"PostgreSQL schema {schema}: "
                                 + duplicate_message(pk[0], pk[1], pk[2], *found)) from error
        elif fks:
            table, name, column, parent, key = fks[0]
            count, first = cursor.execute(dangling_sql(table, column, parent, key)).fetchone()
            if count:
                raise StoreError(f"PostgreSQL schema {schema}: "
                                 + dangling_message(table, name, column, parent, key, count, first)) from error
        raise
