"""The content digest of a record table: an unchanged re-import found without reading its rows.

An import compares every row of the dataset with the stored one (``changes``: a join on the
natural key and the stored row hash), which reads the key, hash and version of every stored
row: at 100,000 patients, millions of rows, most of an unchanged re-import's time. A table's
digest says the same with one row: the SHA-256 of its live rows' ``row_hash`` values, sorted
(so the rows' order does not matter), with their count.

- An import that writes records, for each table it leaves holding exactly the dataset's rows
  (the file has every column of the table and no extra attribute, and no live stored row is
  missing from it), the digest of the dataset's rows, the table's row count (deleted rows too)
  and the ``data_state`` generation that its write raised (``cnotrack.store.state``); for any
  other table it removes the digest.
- The digest holds while the generation and the row count are those recorded. Every later write
  of clinical data through cnotrack raises the generation; triggers on the record tables (made
  by migration 0010) remove a table's digest on any update or delete, made through cnotrack or
  by SQL typed into the database (on PostgreSQL on inserts too, once per statement); on SQLite a
  row inserted by SQL changes the row count, which one read of the table's smallest index gives.
- An import whose table's rows have the digest that holds is unchanged in that table: nothing
  of it is read, compared or written. Otherwise the rows are compared as always.

The row hash covers every data column but ``extra`` (``changes.row_hash``), the key included, so
equal digests mean equal rows as surely as equal row hashes do for the row by row comparison.
An import that changes nothing writes nothing, not even a digest: a database written by a
cnotrack before digests gets them with its next import that writes.
"""

from __future__ import annotations

import hashlib

import polars as pl
import sqlalchemy as sa

from .schema import content_digests, data_state, record_table

__all__ = ["content_digest", "digest_holds", "record_digests"]

_STATE_ROW = 1


def content_digest(hashes: pl.Series) -> str:
    """The digest of a table's rows from their ``row_hash`` values (signed 64-bit; none null)."""
    values = hashes.cast(pl.Int64).sort().to_numpy()
    digest = hashlib.sha256(f"rows {values.size}\n".encode())
    digest.update(values.astype("<i8", copy=False).tobytes())
    return digest.hexdigest()


def _generation(conn: sa.Connection) -> int | None:
    return conn.execute(sa.select(data_state.c.generation).where(data_state.c.id == _STATE_ROW)).scalar()


def _row_count(conn: sa.Connection, name: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(record_table(name))).scalar()


def digest_holds(conn: sa.Connection, name: str, rows: int, digest: str) -> bool:
    """Whether the table ``name`` holds exactly ``rows`` live rows of digest ``digest`` (see the
    module: recorded at the generation the database is still at, and no row inserted since)."""
    row = conn.execute(sa.select(content_digests.c.generation, content_digests.c.rows, content_digests.c.stored_rows,
                                 content_digests.c.digest).where(content_digests.c.table_name == name)).first()
    if row is None or row.rows != rows or row.digest != digest or row.generation != _generation(conn):
        return False
    return conn.dialect.name == "postgresql" or row.stored_rows == _row_count(conn, name)


def record_digests(conn: sa.Connection, digests: dict[str, str | None], rows: dict[str, int]) -> None:
    """In the transaction of an import's write, after ``mark_changed``: record the digest of each
    table of ``digests`` that has one (``rows`` gives its live rows), remove it for the others."""
    generation = _generation(conn)
    conn.execute(content_digests.delete().where(content_digests.c.table_name.in_(list(digests))))
    kept = [{"table_name": name, "generation": generation, "rows": rows[name], "digest": digest,
             "stored_rows": _row_count(conn, name)}
            for name, digest in digests.items() if digest is not None and generation is not None]
    if kept:
        conn.execute(content_digests.insert(), kept)
