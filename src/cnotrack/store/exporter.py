"""Reading the records of the database back as a typed ``Dataset``."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from ..exchange.dataset import EXTRA, Dataset, empty_table
from ..exchange.schema import exchange_format
from .database import Store
from .bulk import read_frames
from .label import database_label
from .schema import record_table  # noqa: F401  (synthetic_patient_count)

__all__ = ["read_store", "synthetic_patient_count"]


def read_store(store: Store) -> Dataset:
    """Every record of the database that is not deleted, as a ``Dataset``; its ``source`` is
    the database's safe label (``database_label``: kind, host and name, never a password).

    Each table is read in bulk (``cnotrack.store.bulk.read_frames``: Arrow through one ADBC
    connection on an SQLite file, ``COPY`` on PostgreSQL), all from one state of the database:
    on SQLite a read transaction that holds the database's shared lock until every table is
    read (a writer waits to commit until then), on PostgreSQL one REPEATABLE READ transaction
    (one snapshot)."""
    schemas = {name: dict(empty_table(name).schema) | {"extra": pl.String} for name in exchange_format().table_names}
    tables: dict[str, pl.DataFrame] = {}
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()  # takes the shared lock
            frames = read_frames(conn, {n: (s, "deleted_at IS NULL") for n, s in schemas.items()}, engine=store.engine)
        for name, frame in frames.items():
            frame = frame.rename({"extra": EXTRA})
            if frame[EXTRA].null_count() == frame.height:
                frame = frame.drop(EXTRA)
            tables[name] = frame
    return Dataset(tables, source=database_label(store.url))


def synthetic_patient_count(store: Store, *, center: str | None = None,
                            every_center: bool = False) -> tuple[int, int]:
    """``(synthetic, all)``: how many patients that are not deleted are marked synthetic, and
    how many there are, among those of ``center`` (or of every center with ``every_center``).
    One COUNT query: cheap enough for every page of the web application."""
    patients = record_table("patients")
    query = sa.select(sa.func.count(), sa.func.count().filter(patients.c.synthetic.is_(True))).where(
        patients.c.deleted_at.is_(None))
    if not every_center:
        if center is None:
            return 0, 0
        query = query.where(patients.c.center == center)
    with store.engine.connect() as conn:
        total, synthetic = conn.execute(query).one()
    return int(synthetic or 0), int(total or 0)
