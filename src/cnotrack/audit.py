"""The audit trail as a user may read it: who changed which record, when, before and after.

An admin reads every entry of a record change; an investigator or viewer only those whose record
(found by table and id, deleted records included) belongs to a patient who is now of their
center, a lesion through its imaging study. Security events (sign-ins, user changes, downloads:
``audit_log.kind = 'security'``) are never part of it: admins read them through
``cnotrack.security_log``. Filtering, ordering and limits run in the database, and
``audit_trail_batches`` reads the whole trail a batch at a time, for exports of any size.

An import's added rows are stored as one audit row per run of record ids (``record_id`` to
``last_record_id``, docs/store.md); both functions expand such a run into one ``insert`` entry
per record (its id and natural key read from the record table, ``before`` and ``after`` empty),
counted and listed in the database, so that a record's history reads as one entry per change.

Filters (:class:`AuditFilter`), all run in the database as bound parameters: the table and the
record id (the ``table_name, record_id`` index), the actor (the user name, case-insensitive), a
range of dates (UTC days, both ends included) and a patient (the entries of every record of that
patient, deleted ones included: a record found by its id in its table, a lesion through its
imaging study; the natural-key indexes start with ``patient_id``). A filter narrows what the
user may see; it never widens it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .errors import RecordNotFoundError
from .exchange.schema import exchange_format
from .store.database import Store, as_utc
from .store.schema import audit_log, record_table
from .users import User

__all__ = ["AuditFilter", "audit_trail", "audit_trail_batches"]

RECORD_TYPES: tuple[str, ...] = exchange_format().table_names


def _check_table(table: str) -> None:
    if table not in RECORD_TYPES:
        raise RecordNotFoundError(f"no record type {table!r}; the record types are {', '.join(RECORD_TYPES)}")


@dataclass(frozen=True)
class AuditFilter:
    """What the audit trail is narrowed to (``None``: no condition): the ``actor`` (user name,
    case-insensitive), the days ``date_from`` to ``date_to`` (UTC, both included) and the
    patient ``patient_id`` (exact, as identifiers are)."""

    actor: str | None = None
    patient_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def narrows_records(self) -> bool:
        """Whether the filter picks records (not only audit rows): then an import's run of added
        ids is counted record by record."""
        return self.patient_id is not None


_NO_FILTER = AuditFilter()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def _of_patient(name: str, patient_id: str) -> sa.Select:
    """The ids of ``name`` records (deleted ones included) of the patient ``patient_id``."""
    t = record_table(name)
    if name == "patients":
        return sa.select(t.c.id).where(t.c.patient_id == patient_id)
    if name == "lesions":
        imaging = record_table("imaging")
        return (sa.select(t.c.id).join(imaging, imaging.c.study_id == t.c.study_id)
                .where(imaging.c.patient_id == patient_id))
    return sa.select(t.c.id).where(t.c.patient_id == patient_id)


def _names_patient(patient_id: str) -> sa.ColumnElement[bool]:
    """An audit row of a record of the patient (for a run of an import's added ids: a run that
    holds one), as a CASE on the table, as in ``_audit_visible``."""
    conditions = []
    single = audit_log.c.last_record_id.is_(None)
    for name in RECORD_TYPES:
        t = record_table(name)
        one = _of_patient(name, patient_id).where(t.c.id == audit_log.c.record_id).correlate(audit_log)
        run = _of_patient(name, patient_id).where(
            t.c.id.between(audit_log.c.record_id, audit_log.c.last_record_id)).correlate(audit_log)
        conditions.append((audit_log.c.table_name == name,
                           sa.case((single, one.exists()), else_=run.exists()) == sa.true()))
    return sa.case(*conditions, else_=sa.false()) == sa.true()


def _filtered(query: sa.Select, where: AuditFilter) -> sa.Select:
    if where.actor:
        query = query.where(sa.func.lower(audit_log.c.actor) == where.actor.lower())
    if where.date_from is not None:
        query = query.where(audit_log.c.at >= _midnight(where.date_from))
    if where.date_to is not None:
        query = query.where(audit_log.c.at < _midnight(where.date_to + dt.timedelta(days=1)))
    if where.patient_id is not None:
        query = query.where(_names_patient(where.patient_id))
    return query


def _owned(user: User, name: str) -> sa.Select:
    """The ids of ``name`` records (deleted ones included) whose patient is now of ``user``'s center."""
    patients, imaging = record_table("patients"), record_table("imaging")
    t = record_table(name)
    if name == "patients":
        return sa.select(t.c.id).where(t.c.center == user.center)
    if name == "lesions":
        return (sa.select(t.c.id).join(imaging, imaging.c.study_id == t.c.study_id)
                .join(patients, patients.c.patient_id == imaging.c.patient_id).where(patients.c.center == user.center))
    return (sa.select(t.c.id).join(patients, patients.c.patient_id == t.c.patient_id)
            .where(patients.c.center == user.center))


def _audit_visible(user: User) -> sa.ColumnElement[bool]:
    """An audit row is shown to a non-admin when the record it names (by table and id, deleted
    records included) belongs to a patient who is now of the user's center."""
    conditions = []
    for name in RECORD_TYPES:
        owned = _owned(user, name).where(record_table(name).c.id == audit_log.c.record_id).correlate(audit_log)
        conditions.append((audit_log.c.table_name == name, owned.exists()))
    # a CASE, not an OR of (table, exists) pairs: an OR lets the database gather every entry of
    # every table through the table_name index before sorting; a CASE lets it walk the trail
    # newest first and stop at the limit
    return sa.case(*conditions, else_=sa.false()) == sa.true()


def _groups(user: User, table: str | None, record_id: int | None, where: AuditFilter = _NO_FILTER) -> sa.Select:
    """The audit rows ``user`` may see, of one record, one table or everything (unordered): one
    per record change, and one per run of ids an import added (``last_record_id`` set), whose
    records are counted and listed from the record table (``_range_rows``)."""
    if table is not None:
        _check_table(table)
    # record changes only: security events (sign-ins, user changes, downloads) are for admins,
    # through cnotrack.security_log.security_events
    query = sa.select(audit_log).where(audit_log.c.kind == "record")
    single = audit_log.c.last_record_id.is_(None)
    if table is not None:
        query = query.where(audit_log.c.table_name == table)
    if record_id is not None:
        query = query.where(sa.or_(sa.and_(single, audit_log.c.record_id == record_id),
                                   sa.and_(~single, audit_log.c.record_id <= record_id,
                                           audit_log.c.last_record_id >= record_id)))
    if not user.is_admin:
        query = query.where(sa.or_(~single, _audit_visible(user)))
    return _filtered(query, where)


def _range_rows(user: User, group: Mapping[str, Any], record_id: int | None,
                where: AuditFilter = _NO_FILTER) -> sa.Select:
    """The records of an import's run of added ids that ``user`` may see (id and key)."""
    name = group["table_name"]
    t = record_table(name)
    key = list(exchange_format().table(name).key)
    query = sa.select(t.c.id, *[t.c[k] for k in key]).where(t.c.id.between(group["record_id"], group["last_record_id"]))
    if record_id is not None:
        query = query.where(t.c.id == record_id)
    if not user.is_admin:
        query = query.where(t.c.id.in_(_owned(user, name)))
    if where.patient_id is not None:
        query = query.where(t.c.id.in_(_of_patient(name, where.patient_id)))
    return query


def _range_size(conn: sa.Connection, user: User, group: Mapping[str, Any], record_id: int | None,
                where: AuditFilter = _NO_FILTER) -> int:
    if user.is_admin and record_id is None and not where.narrows_records:
        return group["last_record_id"] - group["record_id"] + 1  # a run holds every id from first to last
    query = _range_rows(user, group, record_id, where)
    return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar()


def _range_entries(conn: sa.Connection, user: User, group: Mapping[str, Any], record_id: int | None, *,
                   newest_first: bool, limit: int, offset: int,
                   where: AuditFilter = _NO_FILTER) -> list[dict[str, Any]]:
    query = _range_rows(user, group, record_id, where)
    t = record_table(group["table_name"])
    query = query.order_by(t.c.id.desc() if newest_first else t.c.id).limit(limit).offset(offset)
    out = []
    for row in conn.execute(query).mappings():
        values = dict(row)
        out.append({"id": group["id"], "at": as_utc(group["at"]).isoformat(), "actor": group["actor"],
                    "action": group["action"], "table": group["table_name"], "record_id": values.pop("id"),
                    "key": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()},
                    "before": None, "after": None, "import_id": group["import_id"]})
    return out


def _audit_entry(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "at": as_utc(r["at"]).isoformat(), "actor": r["actor"], "action": r["action"],
            "table": r["table_name"], "record_id": r["record_id"], "key": json.loads(r["record_key"]),
            "before": json.loads(r["before"]) if r["before"] else None,
            "after": json.loads(r["after"]) if r["after"] else None, "import_id": r["import_id"]}


def audit_trail(store: Store, user: User, *, table: str | None = None, record_id: int | None = None,
                limit: int = 1000, offset: int = 0, where: AuditFilter | None = None) -> list[dict[str, Any]]:
    """The audit trail, oldest first, of one record, one table or everything, limited to the
    records of the patients ``user`` may see (of every patient, for an admin) and narrowed by
    ``where`` (an :class:`AuditFilter`: actor, dates, patient): the newest
    ``limit`` entries (every entry for ``limit=0``), skipping the ``offset`` newest. The
    filtering and ordering run in the database; the audit rows are walked newest first only
    until the page is full (a run of an import's added records counts as its records)."""
    skip, wanted = max(0, offset), (limit if limit else None)
    entries: list[dict[str, Any]] = []
    # the audit rows are read a page at a time with a LIMIT (by id, newest first): a request for
    # the newest entry reads one audit row, however long the trail
    page = 500 if wanted is None else max(1, min(500, wanted + skip))
    below: int | None = None
    where = where or _NO_FILTER
    with store.engine.connect() as conn:
        while wanted is None or len(entries) < wanted:
            query = _groups(user, table, record_id, where)
            if below is not None:
                query = query.where(audit_log.c.id < below)
            groups = conn.execute(query.order_by(audit_log.c.id.desc()).limit(page)).mappings().all()
            for group in groups:
                if wanted is not None and len(entries) >= wanted:
                    break
                if group["last_record_id"] is None:
                    if skip:
                        skip -= 1
                    else:
                        entries.append(_audit_entry(group))
                    continue
                size = _range_size(conn, user, group, record_id, where)
                if skip >= size:
                    skip -= size
                    continue
                room = size - skip if wanted is None else min(size - skip, wanted - len(entries))
                entries += _range_entries(conn, user, group, record_id, newest_first=True, limit=room, offset=skip,
                                          where=where)
                skip = 0
            if len(groups) < page:
                break
            below, page = groups[-1]["id"], 500
    entries.reverse()
    return entries


def audit_trail_batches(store: Store, user: User, *, table: str | None = None, record_id: int | None = None,
                        batch: int = 5000, where: AuditFilter | None = None) -> Iterator[list[dict[str, Any]]]:
    """The whole audit trail that ``user`` may see (as ``audit_trail``, narrowed by ``where``),
    oldest first, in batches of at most ``batch`` entries read one query at a time (by id, not by
    offset), so that exporting a trail of millions of entries holds one batch in memory. Entries written while the batches are
    read are left to the next export: the last id is fixed when the first batch is read."""
    with store.engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar()
    after = 0
    where = where or _NO_FILTER
    pending: list[dict[str, Any]] = []
    while last is not None and after < last:
        query = (_groups(user, table, record_id, where)
                 .where(audit_log.c.id > after, audit_log.c.id <= last).order_by(audit_log.c.id).limit(batch))
        with store.engine.connect() as conn:
            groups = [dict(r) for r in conn.execute(query).mappings()]
            if not groups:
                break
            for group in groups:
                if group["last_record_id"] is None:
                    pending.append(_audit_entry(group))
                else:
                    done = 0
                    while True:
                        part = _range_entries(conn, user, group, record_id, newest_first=False,
                                              limit=batch, offset=done, where=where)
                        pending += part
                        done += len(part)
                        if len(pending) >= batch:
                            yield pending
                            pending = []
                        if len(part) < batch:
                            break
                if len(pending) >= batch:
                    yield pending
                    pending = []
        after = groups[-1]["id"]
    if pending:
        yield pending
