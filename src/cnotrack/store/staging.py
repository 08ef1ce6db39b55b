"""The first import into an SQLite file: its rows staged through Arrow, then copied in SQL.

Writing millions of rows with ``executemany`` costs a Python tuple and a bind per value; most of
an import's time at registry size. When a table is empty, an import inserts every row of the
dataset's table, in order (``changes.insert_rows``), so those rows are known before the import's
write transaction begins. ``stage_rows`` writes them, before it, through ADBC (Arrow batches
bound in C: ``adbc_ingest``) into a scratch SQLite file of their own; the write transaction has
the file attached (``Store.begin_write(attach=...)``: SQLite attaches only outside a
transaction) and copies each staged table with one ``INSERT ... SELECT`` (``copy_staged``),
which SQLite runs in C, checking keys, references and constraints as for any insert.

A staged table is used only if the plan made inside the write transaction inserts exactly the
staged rows (every row of the dataset: the table is still empty); otherwise (another writer
added rows in between) the plan's rows are written with ``executemany`` as always. The scratch
file is deleted when the import ends, written or not.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from ..exchange.dataset import Dataset
from ..exchange.schema import exchange_format
from .bulk import sqlite_file, sqlite_transport
from .changes import HASH, data_columns, insert_rows
from .database import Store
from .schema import record_table

__all__ = ["ALIAS", "Staged", "copy_staged", "stage_rows"]

ALIAS = "cnotrack_stage"
_MIN_ROWS = 10_000  # below this, executemany is as quick as staging
_ORDER = "_n"


@dataclass
class Staged:
    """A scratch SQLite file holding, per table, the rows an import into that empty table adds."""

    file: Path
    rows: dict[str, int] = field(default_factory=dict)  # table -> staged rows


@contextlib.contextmanager
def stage_rows(dataset: Dataset, store: Store) -> Iterator[Staged | None]:
    """Stage the rows of every table of ``dataset`` of at least ``_MIN_ROWS`` rows that is empty
    in ``store`` (an SQLite file); ``None`` when there is nothing to stage. The file is removed
    when the block ends."""
    if sqlite_file(store.engine) is None:
        yield None
        return
    names = [n for n in exchange_format().table_names if dataset[n].height >= _MIN_ROWS]
    with store.engine.connect() as conn:
        empty = [n for n in names if conn.execute(sa.select(record_table(n).c.id).limit(1)).first() is None]
    if not empty:
        yield None
        return
    import adbc_driver_sqlite.dbapi as adbc

    folder = Path(tempfile.mkdtemp(prefix="cnotrack-stage-"))
    try:
        staged = Staged(folder / "stage.db")
        with adbc.connect(str(staged.file)) as connection:
            with connection.cursor() as cursor:
                for name in empty:
                    frame = sqlite_transport(insert_rows(dataset, name)).with_row_index(_ORDER)
                    cursor.adbc_ingest(name, frame, mode="create")
                    staged.rows[name] = frame.height
            connection.commit()
        yield staged
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def copy_staged(conn: sa.Connection, staged: Staged | None, name: str, rows: int, first_id: int,
                constants: dict[str, int]) -> bool:
    """Insert the staged rows of ``name`` with ids from ``first_id`` on and the ``constants``
    (column -> value) in the write transaction of ``conn``, if they are the ``rows`` rows it is
    to insert; False (nothing written) when they are not staged."""
    if staged is None or staged.rows.get(name) != rows:
        return False
    columns = [*data_columns(name), "source_file", "source_row", HASH]
    names = ", ".join(f'"{c}"' for c in ["id", *columns, *constants])
    values = ", ".join([f'"{_ORDER}" + {int(first_id)}', *[f'"{c}"' for c in columns],
                        *[str(int(v)) for v in constants.values()]])
    conn.exec_driver_sql(f'INSERT INTO main."{name}" ({names}) SELECT {values} FROM {ALIAS}."{name}" '
                         f'ORDER BY "{_ORDER}"')
    return True

