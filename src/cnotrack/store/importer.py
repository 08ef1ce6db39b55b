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
the audit trail with the row before and after. Rows of the database that the dataset does not
mention are kept: an import adds and updates, it never deletes. An import that changes nothing
writes nothing, so importing the same dataset twice equals importing it once.

Two imports never interleave: the import's transaction is a write transaction that other
imports wait for (``Store.begin_write(exclusive=True)``), and the database's unique natural keys
stop a duplicate that a concurrent web edit could make; an import that collides with such an
edit is planned again and retried.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from ..errors import DatasetError, Problem, StoreError
from ..exchange.dataset import EXTRA, ROW, Dataset
from ..exchange.schema import exchange_format
from .database import Store
from .schema import audit_log, imports, record_table

__all__ = ["ImportPlan", "ImportReport", "RowChange", "TablePlan", "import_dataset", "plan_import",
           "record_json", "row_values"]

_ATTEMPTS = 3
_PROVENANCE = ("import_id", "source_file", "source_sha256", "source_row")


@dataclass(frozen=True)
class RowChange:
    """One stored row an import changes: its natural key, ``update`` or ``restore`` (a deleted
    row brought back), and the columns whose value changes."""

    key: dict[str, object]
    action: str
    columns: tuple[str, ...]


@dataclass
class TablePlan:
    """What an import does to one table."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    restored: int = 0
    columns: dict[str, int] = field(default_factory=dict)   # changed column -> rows it changes in
    kept: tuple[str, ...] = ()                               # columns absent from the file: kept as stored
    changes: list[RowChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"added": self.added, "changed": self.changed, "unchanged": self.unchanged,
                "restored": self.restored, "columns": dict(self.columns), "kept": list(self.kept)}


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


def _data_columns(name: str) -> list[str]:
    spec = exchange_format().table(name)
    cols = list(spec.column_names)
    if name == "labs":
        cols.insert(cols.index("value") + 1, "censor")
    return cols + ["extra"]


def row_values(name: str, record: dict[str, object]) -> dict[str, object]:
    """The data columns of one record (no bookkeeping columns)."""
    return {c: record.get(c) for c in _data_columns(name)}


def record_json(values: dict[str, object]) -> str:
    return json.dumps(values, default=_json_default, sort_keys=True, ensure_ascii=False)


def _json_default(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value))


# --------------------------------------------------------------------------- planning


@dataclass
class _Work:
    """The plan of one table and the writes that carry it out."""

    plan: TablePlan
    inserts: list[dict[str, object]] = field(default_factory=list)
    updates: list[tuple[dict[str, object], dict[str, object], dict[str, object], str]] = field(default_factory=list)
    # (stored row, new data values, the record's provenance, action)


def plan_import(dataset: Dataset, store: Store) -> ImportPlan:
    """What ``import_dataset(dataset, store)`` would do now, computed without writing anything.

    Raises ``DatasetError`` for what the import would refuse (a ``lesion_id`` a stored lesion
    of the same study holds)."""
    plan = ImportPlan(source=dataset.source)
    with store.engine.connect() as conn:
        for name in exchange_format().table_names:
            plan.tables[name] = _plan_table(conn, dataset, name).plan
    return plan


def _present_columns(dataset: Dataset, name: str, frame: pl.DataFrame) -> set[str]:
    """The data columns of ``name`` the file had (all of them when the dataset does not say)."""
    columns = _data_columns(name)
    if name in dataset.columns_present:
        had = set(dataset.columns_present[name])
        present = {c for c in columns if c in had}
        if "value" in present and name == "labs":
            present.add("censor")
        present |= set(exchange_format().table(name).key)
    else:
        present = set(columns) - {"extra"}
    if EXTRA in frame.columns:
        present.add("extra")
    return present


def _extra_names(dataset: Dataset, name: str, frame: pl.DataFrame) -> set[str]:
    """The extra (kept unknown) columns of the file: every attribute some row holds, and the
    columns the dataset says the file had beyond the format's."""
    names: set[str] = set()
    if EXTRA in frame.columns:
        for text in frame[EXTRA].drop_nulls().unique().to_list():
            names.update(json.loads(text))
    had = dataset.columns_present.get(name)
    if had:
        names |= set(had) - set(_data_columns(name)) - {ROW}
    return names


def _merged_extra(stored: object, new: object, names: set[str]) -> str | None:
    """The stored extra attributes with the file's set (or cleared, for an empty cell)."""
    merged = json.loads(stored) if isinstance(stored, str) and stored else {}
    given = json.loads(new) if isinstance(new, str) and new else {}
    for attribute in names:
        merged.pop(attribute, None)
    merged.update(given)
    return json.dumps(dict(sorted(merged.items())), ensure_ascii=False, sort_keys=True) if merged else None


def _plan_table(conn: sa.Connection, dataset: Dataset, name: str) -> _Work:
    table = record_table(name)
    key = list(exchange_format().table(name).key)
    columns = _data_columns(name)
    existing: dict[tuple, dict[str, object]] = {}
    for row in conn.execute(sa.select(table)).mappings():
        existing[tuple(row[k] for k in key)] = dict(row)
    frame = dataset[name]
    present = _present_columns(dataset, name, frame)
    extra_names = _extra_names(dataset, name, frame) if "extra" in present else set()
    if EXTRA in frame.columns:
        frame = frame.rename({EXTRA: "extra"})
    work = _Work(TablePlan(kept=tuple(c for c in columns if c not in present and c != "extra")
                           if frame.height else ()))
    plan = work.plan
    source_file = _source_file(dataset, name)
    sha = dataset.sha256.get(source_file.split("[")[0]) if source_file else None
    for record in frame.iter_rows(named=True):
        values = row_values(name, record)
        provenance = {"import_id": None, "source_file": source_file, "source_sha256": sha,
                      "source_row": record.get(ROW)}
        current = existing.get(tuple(values[k] for k in key))
        if current is None:
            work.inserts.append({**values, **provenance})
            plan.added += 1
            continue
        before = {c: current[c] for c in columns}
        after = dict(before)
        for c in present:
            after[c] = values[c]
        if "extra" in present:
            after["extra"] = _merged_extra(before["extra"], values["extra"], extra_names)
        changed = tuple(c for c in columns if after[c] != before[c])
        if not changed and current["deleted_at"] is None:
            plan.unchanged += 1
            continue
        action = "restore" if current["deleted_at"] is not None else "update"
        work.updates.append((current, after, provenance, action))
        plan.changed += 1
        plan.restored += action == "restore"
        for c in changed:
            plan.columns[c] = plan.columns.get(c, 0) + 1
        plan.changes.append(RowChange({k: values[k] for k in key}, action, changed))
    plan.columns = {c: plan.columns[c] for c in columns if c in plan.columns}
    if name == "lesions":
        _check_lesion_ids(dataset, existing.values(), work)
    return work


def _check_lesion_ids(dataset: Dataset, stored: Iterable[dict[str, object]], work: _Work) -> None:
    """A lesion_id names one lesion of its study: refuse a row whose lesion_id a stored lesion
    that the import leaves as it is already holds."""
    touched = {current["id"] for current, *_ in work.updates}
    holders = {(r["study_id"], r["lesion_id"]): r for r in stored
               if r["lesion_id"] is not None and r["deleted_at"] is None and r["id"] not in touched}
    if not holders:
        return
    problems = []
    label = _source_file(dataset, "lesions") or "lesions"
    for values, row in [(after, prov["source_row"]) for _, after, prov, _ in work.updates] + \
                       [(ins, ins["source_row"]) for ins in work.inserts]:
        holder = holders.get((values["study_id"], values["lesion_id"]))
        if holder is not None:
            site = " ".join(str(holder[c]) for c in ("bone", "side", "segment") if holder[c] is not None)
            problems.append(Problem(label, row, "lesion_id", str(values["lesion_id"]),
                                    f"a stored lesion of study {values['study_id']} (record {holder['id']}, "
                                    f"{site}) already has this lesion_id; give another, or change that lesion "
                                    "first"))
    if problems:
        raise DatasetError(problems, source=dataset.source)


# --------------------------------------------------------------------------- writing


def import_dataset(dataset: Dataset, store: Store, *, actor: str = "cli") -> ImportReport:
    """Write ``dataset`` into ``store`` in one transaction and report what changed.

    Imports run one at a time (a second waits for the first, then finds its rows stored); an
    import that collides with a record written at the same moment by someone else is planned
    again and retried, and after a few collisions it stops with a ``StoreError``."""
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
    with store.begin_write(exclusive=True) as conn:
        pending_audit: list[dict[str, object]] = []
        import_id = conn.execute(imports.insert().values(
            source=dataset.source, files=json.dumps(dataset.sha256, sort_keys=True),
            imported_at=now, imported_by=actor, inserted=0, updated=0, unchanged=0,
        )).inserted_primary_key[0]
        for name in exchange_format().table_names:
            _import_table(conn, dataset, name, import_id, now, actor, report, pending_audit)
        if not report.changed:
            conn.execute(imports.delete().where(imports.c.id == import_id))
            return report
        report.import_id = import_id
        conn.execute(imports.update().where(imports.c.id == import_id).values(
            inserted=sum(report.inserted.values()), updated=sum(report.updated.values()),
            unchanged=sum(report.unchanged.values())))
        if pending_audit:
            conn.execute(audit_log.insert(), pending_audit)
    return report


def _import_table(conn: sa.Connection, dataset: Dataset, name: str, import_id: int,
                  now: dt.datetime, actor: str, report: ImportReport,
                  audit: list[dict[str, object]]) -> None:
    table = record_table(name)
    key = list(exchange_format().table(name).key)
    columns = _data_columns(name)
    work = _plan_table(conn, dataset, name)
    if work.updates:
        if name == "lesions":
            # a lesion_id moving from one stored lesion to another: free it first
            moving = [{"_id": current["id"]} for current, after, _, _ in work.updates
                      if after["lesion_id"] != current["lesion_id"] and current["lesion_id"] is not None]
            if moving:
                conn.execute(table.update().where(table.c.id == sa.bindparam("_id")).values(lesion_id=None), moving)
        names = columns + list(_PROVENANCE) + ["version"]
        statement = table.update().where(table.c.id == sa.bindparam("_id")).values(
            {**{c: sa.bindparam(f"_v_{c}") for c in names}, "deleted_at": None})
        params = []
        for current, after, provenance, action in work.updates:
            row = {**after, **provenance, "import_id": import_id, "version": current["version"] + 1}
            params.append({"_id": current["id"], **{f"_v_{c}": row[c] for c in names}})
            before = {c: current[c] for c in columns}
            audit.append(_audit(name, current["id"], key, after, before, after, action, now, actor, import_id))
        conn.execute(statement, params)
    if work.inserts:
        rows = [{**r, "import_id": import_id, "version": 1} for r in work.inserts]
        conn.execute(table.insert(), rows)
        ids = _ids_by_key(conn, table, key, [tuple(r[k] for k in key) for r in rows])
        for row in rows:
            values = {c: row[c] for c in columns}
            audit.append(_audit(name, ids[tuple(row[k] for k in key)], key, values, None, values,
                                "insert", now, actor, import_id))
    assert report.plan is not None
    report.plan.tables[name] = work.plan
    report.inserted[name] = work.plan.added
    report.updated[name] = work.plan.changed
    report.unchanged[name] = work.plan.unchanged


def _ids_by_key(conn: sa.Connection, table: sa.Table, key: list[str], wanted: list[tuple]) -> dict[tuple, int]:
    wanted_set = set(wanted)
    out = {}
    for row in conn.execute(sa.select(table.c.id, *[table.c[k] for k in key])):
        k = tuple(row[1:])
        if k in wanted_set:
            out[k] = row[0]
    return out


def _audit(name: str, record_id: int, key: list[str], values: dict[str, object],
           before: dict[str, object] | None, after: dict[str, object] | None, action: str,
           now: dt.datetime, actor: str, import_id: int | None) -> dict[str, object]:
    return {
        "at": now, "actor": actor, "action": action, "table_name": name, "record_id": record_id,
        "record_key": record_json({k: values[k] for k in key}),
        "before": record_json(before) if before is not None else None,
        "after": record_json(after) if after is not None else None,
        "import_id": import_id,
    }


def _source_file(dataset: Dataset, name: str) -> str | None:
    if not dataset.sha256:
        return None
    files = list(dataset.sha256)
    if len(files) == 1 and files[0].lower().endswith(".xlsx"):
        return f"{files[0]}[{name}]"
    return next((f for f in files if f.strip().lower() == f"{name}.csv"), None)
