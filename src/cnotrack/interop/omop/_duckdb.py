"""``load_omop`` for DuckDB: the DDL, COPY of the CSV files, primary keys, foreign keys as anti-joins."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ...errors import StoreError
from .export import OmopExport
from .load import (OmopLoad, _ddl, _placeholder_rows, _statements, athena_files, dangling_message, dangling_sql,
                   duplicate_message, first_duplicate_sql, foreign_keys, primary_key, tables_in_order)

__all__ = ["load_duckdb"]


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def load_duckdb(export: OmopExport, database: str, folder: Path, *, ddl_dir: Path, schema: str,
                vocabulary: Path | None) -> OmopLoad:
    try:
        import duckdb
    except ImportError:
        raise StoreError("loading into DuckDB needs the duckdb package, which is not installed; "
                         "install it with: pip install 'cnotrack[omop]' (or pip install duckdb)") from None
    try:
        connection = duckdb.connect(database)
    except duckdb.Error as error:
        raise StoreError(f"duckdb:{database}: cannot be opened ({error})") from error
    report = OmopLoad("duckdb", schema)
    try:
        if schema != "main":
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for statement in _statements(_ddl(ddl_dir, "duckdb", "ddl", schema)):
            connection.execute(statement)
        if vocabulary is not None:
            for table, path in athena_files(vocabulary):
                header = path.open(encoding="utf-8").readline().rstrip("\r\n").split("\t")
                connection.execute(f"COPY {schema}.{table} ({', '.join(header)}) FROM {_literal(path)} "
                                   "(HEADER, DELIMITER '\t', QUOTE '', DATEFORMAT '%Y%m%d')")
        else:
            placeholders = _placeholder_rows(export)
            report.placeholder_concepts = len(placeholders["concept"])
            for table, rows in placeholders.items():
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f"INSERT INTO {schema}.{table} VALUES ({marks})", rows)
        _count_rounded(connection, export, schema, report)
        for table in tables_in_order(export):
            connection.execute(f"COPY {schema}.{table} FROM {_literal(folder / f'{table}.csv')} "
                               "(HEADER, DELIMITER ',', DATEFORMAT '%Y-%m-%d')")
            report.rows[table] = connection.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
        for statement in _statements(_ddl(ddl_dir, "duckdb", "primary_keys", schema)):
            _add_primary_key(connection, statement, database)
        violations = []
        for table, name, column, parent, key in foreign_keys(_ddl(ddl_dir, "duckdb", "constraints", schema)):
            count, first = connection.execute(dangling_sql(table, column, parent, key)).fetchone()
            report.foreign_keys += 1
            if count:
                violations.append(dangling_message(table, name, column, parent, key, count, first))
        if violations:
            raise StoreError(f"duckdb:{database}: {len(violations)} foreign key(s) do not hold:\n  "
                             + "\n  ".join(violations))
    except duckdb.Error as error:
        raise StoreError(f"duckdb:{database}: the OMOP load failed: {error}") from error
    finally:
        connection.close()
    return report


def _count_rounded(connection, export: OmopExport, schema: str, report: OmopLoad) -> None:
    """The values that the schema's fixed-point columns (the official DDL's NUMERIC, which DuckDB
    makes DECIMAL(18,3)) cannot hold exactly: counted per column, never rounded unsaid."""
    columns = connection.execute(
        "SELECT table_name, column_name, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = ? AND data_type LIKE 'DECIMAL%'", [schema]).fetchall()
    for table, column, scale in columns:
        frame = export.tables.get(table)
        if frame is None or column not in frame.columns or scale is None:
            continue
        values = frame[column].cast(pl.Float64)
        count = int(((values - values.round(int(scale))).abs() > 0).sum() or 0)
        if count:
            report.rounded[f"{table}.{column}"] = count
    if report.rounded:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(report.rounded.items()))
        report.notes.append(
            f"DuckDB holds {sum(report.rounded.values())} value(s) rounded to the 3 decimals of the official DDL's "
            f"NUMERIC columns (DECIMAL(18,3)): {listed}; the CSV files keep every digit, and PostgreSQL's NUMERIC "
            "keeps them too")


def _add_primary_key(connection, statement: str, database: str) -> None:
    """Add one primary key; a duplicated key fails the load naming the table, the constraint and the
    smallest duplicated value."""
    import duckdb

    try:
        connection.execute(statement)
    except duckdb.ConstraintException as error:
        key = primary_key(statement)
        duplicate = connection.execute(first_duplicate_sql(key[0], key[2])).fetchone() if key else None
        if duplicate is None:
            raise
        raise StoreError(f"duckdb:{database}: " + duplicate_message(key[0], key[1], key[2], *duplicate)) from error
