"""Reading the records of the database back as a typed ``Dataset``."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from ..exchange.dataset import EXTRA, Dataset, empty_table
from ..exchange.schema import exchange_format
from .database import Store
from .label import database_label
from .schema import record_table

__all__ = ["read_store", "synthetic_patient_count"]


def read_store(store: Store) -> Dataset:
    """Every record of the database that is not deleted, as a ``Dataset``; its ``source`` is
    the database's safe label (``database_label``: kind, host and name, never a password)."""
    tables: dict[str, pl.DataFrame] = {}
    with store.engine.connect() as conn:
        for name in exchange_format().table_names:
            table = record_table(name)
            template = empty_table(name)
            columns = [table.c[c] for c in template.columns] + [table.c.extra]
            rows = conn.execute(
                sa.select(*columns).where(table.c.deleted_at.is_(None)).order_by(table.c.id)
            ).all()
            schema = dict(template.schema) | {EXTRA: pl.String}
            frame = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
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
