"""Moving whole tables between the database and Polars, without a Python object per row.

- ``read_frame`` reads columns of a table into a typed ``pl.DataFrame``: on an SQLite file
  through ADBC (``adbc-driver-sqlite``: Arrow batches straight from the SQLite C library), on
  PostgreSQL through ``COPY (SELECT ...) TO STDOUT`` on the caller's connection (its
  transaction), parsed by Polars' CSV reader; any other database (an in-memory SQLite) through
  the driver's cursor.
- ``insert_frame`` appends a frame to a table in the caller's transaction: ``executemany`` of
  typed tuples on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL.

Types cross the boundary in one canonical form: dates as ISO text (how SQLAlchemy stores a
``Date`` in SQLite), booleans as 0/1 on SQLite and ``t``/``f`` (read) or ``true``/``false``
(written) on PostgreSQL, numbers as such. ADBC's SQLite driver types each column by its first
batch, so every query it runs starts with one typed sentinel row that is dropped afterwards.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

import polars as pl
import sqlalchemy as sa

__all__ = ["insert_frame", "read_frame", "read_frames", "sqlite_file", "sqlite_transport"]

_BATCH_ROWS = 65536
_SENTINEL = {pl.String: "''", pl.Date: "''", pl.Float64: "0.0", pl.Int64: "0", pl.Boolean: "0"}


def sqlite_file(engine: sa.Engine) -> Path | None:
    """The file of an SQLite engine (None for another backend or an in-memory database)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return None
    return Path(url.database)


def _select_sql(table: str, schema: dict[str, pl.DataType], where: str) -> str:
    columns = ", ".join(f'"{c}"' for c in schema)
    return f'SELECT {columns} FROM "{table}"' + (f" WHERE {where}" if where else "") + " ORDER BY id"


def read_frame(conn: sa.Connection, table: str, schema: dict[str, pl.DataType], *, where: str = "",
               engine: sa.Engine | None = None) -> pl.DataFrame:
    """Columns ``schema`` (name -> Polars type: String, Date, Float64, Int64, Boolean) of
    ``table``, in id order, rows filtered by the SQL condition ``where`` (a constant text)."""
    return read_frames(conn, {table: (schema, where)}, engine=engine)[table]


def read_frames(conn: sa.Connection, tables: dict[str, tuple[dict[str, pl.DataType], str]], *,
                engine: sa.Engine | None = None) -> dict[str, pl.DataFrame]:
    """``read_frame`` of several tables (name -> (schema, where)), through one ADBC connection
    on an SQLite file, in the caller's transaction on PostgreSQL.

    On an SQLite file the tables are consistent with each other when ``conn`` is in a read
    transaction that has read the database (it then holds SQLite's shared lock, so no writer can
    commit until the transaction ends; ``cnotrack.store.exporter.read_store`` does so)."""
    engine = engine or conn.engine
    dialect = conn.dialect.name
    path = sqlite_file(engine) if dialect == "sqlite" else None
    if path is not None:
        import adbc_driver_sqlite.dbapi as adbc

        with adbc.connect(f"file:{quote(str(path.resolve()))}?mode=ro") as connection:
            frames = {t: _read_adbc(connection, t, schema, where) for t, (schema, where) in tables.items()}
    elif dialect == "postgresql":
        frames = {t: _read_copy(conn, t, schema, where) for t, (schema, where) in tables.items()}
    else:
        frames = {t: _read_rows(conn, t, schema, where) for t, (schema, where) in tables.items()}
    return {t: _typed(frame, tables[t][0]) for t, frame in frames.items()}


def _read_rows(conn: sa.Connection, table: str, schema: dict[str, pl.DataType], where: str) -> pl.DataFrame:
    rows = conn.exec_driver_sql(_select_sql(table, schema, where)).all()
    transport = {c: (pl.String if t == pl.Date else pl.Int64 if t == pl.Boolean else t) for c, t in schema.items()}
    return pl.DataFrame([tuple(r) for r in rows], schema=transport, orient="row")


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    exprs = []
    for name, dtype in schema.items():
        column = pl.col(name)
        current = frame.schema[name]
        if dtype == pl.Date and current != pl.Date:
            exprs.append(column.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d"))
        elif dtype == pl.Boolean and current == pl.String:
            exprs.append(column.replace_strict({"t": True, "f": False, "true": True, "false": False},
                                               return_dtype=pl.Boolean))
        else:
            exprs.append(column.cast(dtype))
    return frame.select(exprs)


def _read_adbc(connection: object, table: str, schema: dict[str, pl.DataType], where: str) -> pl.DataFrame:
    sentinel = ", ".join(f'{_SENTINEL[t if t in _SENTINEL else pl.String]} AS "{c}"' for c, t in schema.items())
    sql = f"SELECT * FROM (SELECT {sentinel}) UNION ALL SELECT * FROM ({_select_sql(table, schema, where)})"
    with connection.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_BATCH_ROWS)})
        cursor.execute(sql)
        frame = pl.DataFrame(cursor.fetch_arrow())
    return frame.slice(1)


def _read_copy(conn: sa.Connection, table: str, schema: dict[str, pl.DataType], where: str) -> pl.DataFrame:
    raw = conn.connection.dbapi_connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({_select_sql(table, schema, where)}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    transport = {c: (pl.String if t in (pl.Date, pl.Boolean) else t) for c, t in schema.items()}
    if buffer.tell() == 0:
        return pl.DataFrame(schema=transport)
    return pl.read_csv(buffer.getvalue(), has_header=False, new_columns=list(schema), schema=transport)


def insert_frame(conn: sa.Connection, table: str, frame: pl.DataFrame, *, chunk: int = 100_000) -> None:
    """Append the rows of ``frame`` (its columns are the table's) to ``table``, in the caller's
    transaction."""
    if frame.is_empty():
        return
    try:
        _insert(conn, table, frame, chunk)
    except Exception as exc:  # the driver's own error: raised as SQLAlchemy's, without row values
        if any(kind.__name__ == "IntegrityError" for kind in type(exc).__mro__):
            raise sa.exc.IntegrityError(f"INSERT INTO {table}", None, exc, hide_parameters=True) from None
        raise


def _insert(conn: sa.Connection, table: str, frame: pl.DataFrame, chunk: int) -> None:
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)') as copy:
                for part in frame.iter_slices(chunk):
                    copy.write(part.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z"))
        return
    transport = sqlite_transport(frame)
    statement = f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" for _ in frame.columns)})'
    cursor = raw.cursor()
    try:
        for part in transport.iter_slices(chunk):
            cursor.executemany(statement, part.iter_rows())
    finally:
        cursor.close()


def sqlite_transport(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in the types SQLite stores: dates as ISO text, booleans as 0/1."""
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [pl.col(c).cast(pl.Int64) for c, t in frame.schema.items() if t == pl.Boolean])
