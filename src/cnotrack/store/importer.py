"""Importing a validated dataset: planned first, then written atomically, idempotent, audited.

``plan_import(dataset, store)`` says, without writing anything, what an import would do, table
by table: the rows it would add, the rows it would change (and in which columns) and the rows
it would leave unchanged. ``import_dataset`` computes the same plan inside its transaction and
writes it: either every row is written or none is.

A row is found again by its natural key (``exchange/format.yaml``: ``key``). A column the file
does not have leaves the stored values of that column as they are: a ``patients.csv`` without
date columns cannot wipe the patients' dates. Clearing a stored value takes an explicit empty
cell in a column the file has. Extra attributes (``--keep-extra``) are merged the same way, one
attribute at a time. A changed row is updated (its ``version`` raised) and the change written to
the audit trail with the values before and after of the columns that changed. Rows of the
database that the dataset does not mention are kept: an import adds and updates, it never
deletes. An import that changes nothing writes nothing (not even a row in ``imports``), so
importing the same dataset twice equals importing it once.

Scale: the comparison is done on whole frames (``cnotrack.store.changes``: a join on the natural
key and a stored row hash, so an unchanged row is found without reading its values), the rows
are written in bulk (``cnotrack.store.bulk``: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL), and the audit trail stores the rows an import added as ranges of record ids, one
audit row per range (``audit_log.record_id`` to ``last_record_id``), not one per record: the
rows themselves carry the import's id and their source file and row (the file's SHA-256 is
in ``imports.files``).

An import of a table that the last import left holding exactly the same rows, with no write
since, reads none of the stored rows: the table's content digest tells (``cnotrack.store.digests``).

Two imports never interleave: the import's transaction is a write transaction that other
imports wait for (``Store.begin_write(exclusive=True)``), and the database's unique natural keys
stop a duplicate that a concurrent web edit could make; an import that collides with such an
edit is planned again and retried.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from ..errors import DatasetError, StoreError
from ..exchange.dataset import Dataset, column_named_extras
from ..exchange.schema import exchange_format
from .bulk import insert_frame
from .changes import HASH, RowChange, TablePlan, TableWork, data_columns, plan_table
from .database import Store
from .digests import record_digests
from .schema import audit_log, imports, record_table
from .staging import ALIAS, Staged, copy_staged, stage_rows
from .state import mark_changed

__all__ = ["ImportPlan", "ImportReport", "RowChange", "TablePlan", "import_dataset", "plan_import",
           "record_json", "row_values"]

_ATTEMPTS = 3
_CACHE_KB = 262144


@dataclass
class ImportPlan:
    """What importing a dataset does, table by table (``plan_import``; nothing is written)."""

    source: str
    tables: dict[str, TablePlan] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(t.added or t.changed for t in self.tables.values())

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "tables": {n: t.as_dict() for n, t in self.tables.items()}}


@dataclass
class ImportReport:
    """What an import did, table by table: rows inserted, updated (with the columns that
    changed, in ``plan``) and unchanged."""

    source: str
    import_id: int | None
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    plan: ImportPlan | None = None

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())

    @property
    def changed_columns(self) -> dict[str, dict[str, int]]:
        """Per table, each changed column and the number of rows it changed in."""
        return {n: dict(t.columns) for n, t in self.plan.tables.items()} if self.plan else {}

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "import_id": self.import_id, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged, "changed_columns": self.changed_columns}


def row_values(name: str, record: dict[str, object]) -> dict[str, object]:
    """The data columns of one record (no bookkeeping columns)."""
    return {c: record.get(c) for c in data_columns(name)}


def record_json(values: dict[str, object]) -> str:
    return json.dumps(values, default=_json_default, sort_keys=True, ensure_ascii=False)


def _json_default(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value))


# --------------------------------------------------------------------------- planning


def plan_import(dataset: Dataset, store: Store) -> ImportPlan:
    """What ``import_dataset(dataset, store)`` would do now, computed without writing anything.

    Raises ``DatasetError`` for what the import would refuse (a ``lesion_id`` a stored lesion
    of the same study holds)."""
    _refuse_column_named_extras(dataset)
    plan = ImportPlan(source=dataset.source)
    with store.engine.connect() as conn:
        for name in exchange_format().table_names:
            plan.tables[name] = plan_table(conn, dataset, name, store.engine).plan
    return plan


def _refuse_column_named_extras(dataset: Dataset) -> None:
    problems = column_named_extras(dataset)
    if problems:
        raise DatasetError(problems, source=dataset.source)


# --------------------------------------------------------------------------- writing


def import_dataset(dataset: Dataset, store: Store, *, actor: str = "cli") -> ImportReport:
    """Write ``dataset`` into ``store`` in one transaction and report what changed.

    Imports run one at a time (a second waits for the first, then finds its rows stored); an
    import that collides with a record written at the same moment by someone else is planned
    again and retried, and after a few collisions it stops with a ``StoreError``."""
    _refuse_column_named_extras(dataset)
    for attempt in range(_ATTEMPTS):
        try:
            return _import_once(dataset, store, actor)
        except sa.exc.IntegrityError as exc:
            if attempt == _ATTEMPTS - 1:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "a constraint"
                raise StoreError(f"the import of {dataset.source or 'the dataset'} collided {_ATTEMPTS} times with "
                                 f"records written at the same time ({reason}); nothing was changed; "
                                 "import it again") from None
    raise AssertionError("unreachable")


def _import_once(dataset: Dataset, store: Store, actor: str) -> ImportReport:
    now = dt.datetime.now(dt.timezone.utc)
    report = ImportReport(source=dataset.source, import_id=None, plan=ImportPlan(source=dataset.source))
    with stage_rows(dataset, store) as staged, \
            store.begin_write(exclusive=True, attach={ALIAS: staged.file} if staged else None) as conn:
        # every table is compared before anything is written (on SQLite the comparison reads
        # through a second, read-only connection, which a pending write would block)
        works = [plan_table(conn, dataset, name, store.engine) for name in exchange_format().table_names]
        for work in works:
            report.plan.tables[work.name] = work.plan
            report.inserted[work.name] = work.plan.added
            report.updated[work.name] = work.plan.changed
            report.unchanged[work.name] = work.plan.unchanged
        if not report.changed:
            return report  # nothing is written
        report.import_id = import_id = conn.execute(imports.insert().values(
            source=dataset.source, files=json.dumps(dataset.sha256, sort_keys=True), imported_at=now,
            imported_by=actor, inserted=sum(report.inserted.values()), updated=sum(report.updated.values()),
            unchanged=sum(report.unchanged.values()))).inserted_primary_key[0]
        with _large_cache(conn):
            for work in works:
                _import_table(conn, dataset, work.name, work, import_id, now, actor, staged)
        mark_changed(conn)
        record_digests(conn, {w.name: w.content for w in works},
                       {w.name: dataset[w.name].height for w in works})
    return report


@contextlib.contextmanager
def _large_cache(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, a page cache of up to 256 MB while the rows are written (the default 2 MB makes
    every insert into a natural-key index of a large table read pages again), then the default."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KB}")
    try:
        yield
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def _import_table(conn: sa.Connection, dataset: Dataset, name: str, work: TableWork, import_id: int,
                  now: dt.datetime, actor: str, staged: Staged | None = None) -> None:
    """Write one table's updates and inserts, and their audit rows."""
    table = record_table(name)
    if not work.updates.is_empty():
        _update_rows(conn, table, work, import_id)
        audit = work.before_after.select(
            pl.col("action"), pl.lit(name).alias("table_name"), pl.col("id").alias("record_id"),
            pl.col("key").alias("record_key"), "before", "after")
        rows = [{**r, "at": now, "actor": actor, "import_id": import_id, "kind": "record"} for r in audit.to_dicts()]
        conn.execute(audit_log.insert(), rows)
    if not work.inserts.is_empty():
        last = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        rows = work.inserts.with_columns(pl.lit(import_id).alias("import_id"), pl.lit(1).alias("version"))
        if conn.dialect.name == "sqlite":
            # the write transaction holds SQLite's only write lock: the ids after the largest
            # stored one are this import's, given here as SQLite would (one run)
            ranges = [(last + 1, last + rows.height, rows.height)]
            if not copy_staged(conn, staged, name, rows.height, last + 1, {"import_id": import_id, "version": 1}):
                insert_frame(conn, name, rows.with_row_index("id", offset=last + 1).with_columns(
                    pl.col("id").cast(pl.Int64)))
        else:
            insert_frame(conn, name, rows)
            ranges = _inserted_ranges(conn, table, import_id, last)
        conn.execute(audit_log.insert(), [
            {"at": now, "actor": actor, "action": "insert", "table_name": name, "record_id": first,
             "last_record_id": last, "record_key": json.dumps({"rows": count}), "before": None, "after": None,
             "import_id": import_id, "kind": "record"} for first, last, count in ranges])


def _update_rows(conn: sa.Connection, table: sa.Table, work: TableWork, import_id: int) -> None:
    updates = work.updates
    if work.name == "lesions":
        # a lesion_id moving from one stored lesion to another: free it first
        moving = updates.filter(pl.col("_old_lesion_id").is_not_null()
                                & pl.col("lesion_id").ne_missing(pl.col("_old_lesion_id")))
        if not moving.is_empty():
            conn.execute(table.update().where(table.c.id == sa.bindparam("_id")).values(lesion_id=None),
                         [{"_id": i} for i in moving["id"].to_list()])
    names = data_columns(work.name) + ["source_file", "source_row", "version", HASH]
    statement = table.update().where(table.c.id == sa.bindparam("_id")).values(
        {**{c: sa.bindparam(f"_v_{c}") for c in names}, "deleted_at": None, "import_id": import_id})
    params = updates.select(pl.col("id").alias("_id"), *[pl.col(c).alias(f"_v_{c}") for c in names]).to_dicts()
    conn.execute(statement, params)


def _inserted_ranges(conn: sa.Connection, table: sa.Table, import_id: int, after: int) -> list[tuple[int, int, int]]:
    """The record ids this import added to ``table`` (all above ``after``, the largest id before
    it), as (first, last, count) runs of consecutive ids (one run, unless another writer added
    rows in between); read through the primary key, from ``after`` on."""
    numbered = sa.select(table.c.id, (table.c.id - sa.func.row_number().over(order_by=table.c.id)).label("run")) \
        .where(table.c.id > after, table.c.import_id == import_id, table.c.version == 1).subquery()
    query = sa.select(sa.func.min(numbered.c.id), sa.func.max(numbered.c.id), sa.func.count()) \
        .group_by(numbered.c.run).order_by(sa.func.min(numbered.c.id))
    return [tuple(r) for r in conn.execute(query)]
