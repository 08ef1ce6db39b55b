"""The audit trail as a user may read it: who changed which record, when, before and after.

An admin reads every entry of a record change; an investigator or viewer only those whose record
(found by table and id, deleted records included) belongs to a patient who is now of their
center, a lesion through its imaging study. Security events (sign-ins, user changes, downloads:
``audit_log.kind = 'security'``) are never part of it: admins read them through
``cnotrack.security_log``. Filtering, ordering and limits run in the database, and
``audit_trail_batches`` reads the whole trail a batch at a time, for exports of any size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from .errors import RecordNotFoundError
from .exchange.schema import exchange_format
from .store.database import Store, as_utc
from .store.schema import audit_log, record_table
from .users import User

__all__ = ["audit_trail", "audit_trail_batches"]

RECORD_TYPES: tuple[str, ...] = exchange_format().table_names


def _check_table(table: str) -> None:
    if table not in RECORD_TYPES:
        raise RecordNotFoundError(f"no record type {table!r}; the record types are {', '.join(RECORD_TYPES)}")


def _audit_visible(user: User) -> sa.ColumnElement[bool]:
    """An audit row is shown to a non-admin when the record it names (by table and id, deleted
    records included) belongs to a patient who is now of the user's center."""
    patients, imaging = record_table("patients"), record_table("imaging")
    conditions = []
    for name in RECORD_TYPES:
        t = record_table(name)
        if name == "patients":
            owned = sa.select(t.c.id).where(t.c.center == user.center)
        elif name == "lesions":
            owned = (sa.select(t.c.id).join(imaging, imaging.c.study_id == t.c.study_id)
                     .join(patients, patients.c.patient_id == imaging.c.patient_id)
                     .where(patients.c.center == user.center))
        else:
            owned = (sa.select(t.c.id).join(patients, patients.c.patient_id == t.c.patient_id)
                     .where(patients.c.center == user.center))
        owned = owned.where(t.c.id == audit_log.c.record_id).correlate(audit_log)
        conditions.append((audit_log.c.table_name == name, owned.exists()))
    # a CASE, not an OR of (table, exists) pairs: an OR lets the database gather every entry of
    # every table through the table_name index before sorting; a CASE lets it walk the trail
    # newest first and stop at the limit
    return sa.case(*conditions, else_=sa.false()) == sa.true()


def _audit_select(user: User, table: str | None, record_id: int | None) -> sa.Select:
    """The audit rows ``user`` may see, of one record, one table or everything (unordered)."""
    if table is not None:
        _check_table(table)
    # record changes only: security events (sign-ins, user changes, downloads) are for admins,
    # through cnotrack.security_log.security_events
    query = sa.select(audit_log).where(audit_log.c.kind == "record")
    if table is not None:
        query = query.where(audit_log.c.table_name == table)
    if record_id is not None:
        query = query.where(audit_log.c.record_id == record_id)
    if not user.is_admin:
        query = query.where(_audit_visible(user))
    return query


def _audit_entry(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "at": as_utc(r["at"]).isoformat(), "actor": r["actor"], "action": r["action"],
            "table": r["table_name"], "record_id": r["record_id"], "key": json.loads(r["record_key"]),
            "before": json.loads(r["before"]) if r["before"] else None,
            "after": json.loads(r["after"]) if r["after"] else None, "import_id": r["import_id"]}


def audit_trail(store: Store, user: User, *, table: str | None = None, record_id: int | None = None,
                limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
    """The audit trail, oldest first, of one record, one table or everything, limited to the
    records of the patients ``user`` may see (of every patient, for an admin): the newest
    ``limit`` entries (every entry for ``limit=0``), skipping the ``offset`` newest. The
    filtering, ordering and limit run in the database."""
    query = _audit_select(user, table, record_id).order_by(audit_log.c.id.desc()).offset(max(0, offset))
    if limit:
        query = query.limit(limit)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    rows.reverse()
    return [_audit_entry(r) for r in rows]


def audit_trail_batches(store: Store, user: User, *, table: str | None = None, record_id: int | None = None,
                        batch: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """The whole audit trail that ``user`` may see (as ``audit_trail``), oldest first, in batches of
    at most ``batch`` entries read one query at a time (by id, not by offset), so that exporting a
    trail of millions of entries holds one batch in memory. Entries written while the batches are
    read are left to the next export: the last id is fixed when the first batch is read."""
    with store.engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar()
    after = 0
    while last is not None and after < last:
        query = (_audit_select(user, table, record_id)
                 .where(audit_log.c.id > after, audit_log.c.id <= last).order_by(audit_log.c.id).limit(batch))
        with store.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        if not rows:
            return
        yield [_audit_entry(r) for r in rows]
        after = rows[-1]["id"]
