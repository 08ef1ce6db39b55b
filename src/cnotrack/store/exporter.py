"""Reading the records of the database back as a typed ``Dataset``."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from ..exchange.dataset import EXTRA, Dataset, empty_table
from ..exchange.schema import exchange_format
from .database import Store
from .schema import record_table

__all__ = ["read_store"]


def read_store(store: Store) -> Dataset:
    """Every record of the database that is not deleted, as a ``Dataset``."""
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
    return Dataset(tables, source=store.url)
