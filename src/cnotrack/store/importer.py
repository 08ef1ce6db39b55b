"""Importing a validated dataset: atomic, idempotent, audited, with provenance.

The whole import runs in one transaction: either every row is written or none is. A row is
found again by its natural key (``exchange/format.yaml``: ``key``); an unchanged row is left
as it is, a changed row is updated (its ``version`` raised) and the change written to the
audit trail with the row before and after. Rows of the database that the dataset does not
mention are kept: an import adds and updates, it never deletes. An import that changes
nothing writes nothing, so importing the same dataset twice equals importing it once.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..exchange.dataset import EXTRA, ROW, Dataset
from ..exchange.schema import exchange_format
from .database import Store
from .schema import audit_log, imports, record_table

__all__ = ["ImportReport", "import_dataset", "record_json", "row_values"]


@dataclass
class ImportReport:
    """What an import did, table by table."""

    source: str
    import_id: int | None
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "import_id": self.import_id, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged}


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


def import_dataset(dataset: Dataset, store: Store, *, actor: str = "cli") -> ImportReport:
    """Write ``dataset`` into ``store`` in one transaction and report what changed."""
    now = dt.datetime.now(dt.timezone.utc)
    report = ImportReport(source=dataset.source, import_id=None)
    with store.engine.begin() as conn:
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
    existing: dict[tuple, dict[str, object]] = {}
    for row in conn.execute(sa.select(table)).mappings():
        existing[tuple(row[k] for k in key)] = dict(row)
    frame = dataset[name]
    if EXTRA in frame.columns:
        frame = frame.rename({EXTRA: "extra"})
    source_file = _source_file(dataset, name)
    sha = dataset.sha256.get(source_file.split("[")[0]) if source_file else None
    inserts: list[dict[str, object]] = []
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    for record in frame.iter_rows(named=True):
        values = row_values(name, record)
        provenance = {"import_id": import_id, "source_file": source_file, "source_sha256": sha,
                      "source_row": record.get(ROW)}
        current = existing.get(tuple(values[k] for k in key))
        if current is None:
            inserts.append({**values, **provenance, "version": 1})
            counts["inserted"] += 1
            continue
        before = {c: current[c] for c in columns}
        if before == values and current["deleted_at"] is None:
            counts["unchanged"] += 1
            continue
        conn.execute(table.update().where(table.c.id == current["id"]).values(
            **values, **provenance, version=current["version"] + 1, deleted_at=None))
        action = "restore" if current["deleted_at"] is not None else "update"
        audit.append(_audit(name, current["id"], key, values, before, values, action, now, actor, import_id))
        counts["updated"] += 1
    if inserts:
        conn.execute(table.insert(), inserts)
        ids = _ids_by_key(conn, table, key, [tuple(r[k] for k in key) for r in inserts])
        for row in inserts:
            values = {c: row[c] for c in columns}
            audit.append(_audit(name, ids[tuple(row[k] for k in key)], key, values, None, values,
                                "insert", now, actor, import_id))
    report.inserted[name] = counts["inserted"]
    report.updated[name] = counts["updated"]
    report.unchanged[name] = counts["unchanged"]


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
