"""Reading and changing single records, as a user: what the web pages and the JSON API call.

Every function takes the ``Store``, the acting :class:`~cnotrack.users.User` and a table of the
exchange format, and enforces the same rules:

- **Roles and centers.** A viewer reads; an investigator also creates, edits and deletes; both
  only for the patients of their own center (``patients.center``), and a record belongs to the
  patient it names (a lesion to the patient of its imaging study). An admin reads and changes
  everything. Anything else raises ``AccessError``.
- **The exchange format's rules.** A record is validated exactly as a row of a dataset file
  (:func:`cnotrack.exchange.records.validate_record`); the patient or study it refers to must
  exist. Problems raise ``DatasetError`` with every problem.
- **Nothing lost.** Each change writes the audit trail (who, when, which record, the row before
  and after) in the same transaction as the change. Deletes are soft: the row stays, with
  ``deleted_at`` set, and is no longer read.
- **No silent overwrite.** An update names the ``version`` it was made from; if the record has
  changed since, ``RecordConflictError`` carries both versions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

from .errors import AccessError, DatasetError, Problem, RecordConflictError, RecordNotFoundError
from .exchange.dataset import Dataset, subset
from .exchange.records import validate_record
from .exchange.schema import exchange_format
from .store.database import Store
from .store.exporter import read_store
from .store.importer import record_json, row_values
from .store.schema import audit_log, record_table
from .users import User

__all__ = ["RECORD_TYPES", "audit_trail", "create_record", "delete_record", "get_record", "list_records",
           "may_see_patient", "record_columns", "update_record", "visible_dataset", "visible_patient_ids"]

#: The tables a user edits record by record, in the order a patient's course is told.
RECORD_TYPES: tuple[str, ...] = exchange_format().table_names
_STRING_TYPES = {"id", "text", "choice", "drug", "bone", "lab_test", "lab_unit", "partial_date"}


def record_columns(table: str) -> list[str]:
    """The data columns of a record of ``table`` (the exchange format's, and ``censor`` for labs)."""
    return [c for c in row_values(table, {}) if c != "extra"]


def _check_table(table: str) -> sa.Table:
    if table not in RECORD_TYPES:
        raise RecordNotFoundError(f"no record type {table!r}; the record types are {', '.join(RECORD_TYPES)}")
    return record_table(table)


# ---- who may see what -----------------------------------------------------------------------

def _visible_patients(user: User) -> sa.Select:
    patients = record_table("patients")
    query = sa.select(patients.c.patient_id).where(patients.c.deleted_at.is_(None))
    return query if user.is_admin else query.where(patients.c.center == user.center)


def _visible_rows(user: User, table: str) -> sa.ColumnElement[bool]:
    t = record_table(table)
    live = t.c.deleted_at.is_(None)
    if user.is_admin:
        return live
    if table == "patients":
        return live & (t.c.center == user.center)
    if table == "lesions":
        imaging = record_table("imaging")
        studies = sa.select(imaging.c.study_id).where(imaging.c.deleted_at.is_(None),
                                                      imaging.c.patient_id.in_(_visible_patients(user)))
        return live & t.c.study_id.in_(studies)
    return live & t.c.patient_id.in_(_visible_patients(user))


def visible_patient_ids(store: Store, user: User) -> list[str]:
    """The identifiers of the patients ``user`` may see, sorted."""
    with store.engine.connect() as conn:
        return sorted(conn.execute(_visible_patients(user)).scalars())


def may_see_patient(user: User, center: str | None) -> bool:
    """Whether ``user`` may see a patient of ``center``."""
    return user.is_admin or (center is not None and center == user.center)


def _patient_of(conn: sa.Connection, table: str, row: Mapping[str, Any]) -> str | None:
    if table == "patients":
        return row.get("patient_id")
    if table == "lesions":
        imaging = record_table("imaging")
        return conn.execute(sa.select(imaging.c.patient_id).where(imaging.c.study_id == row.get("study_id"))).scalar()
    return row.get("patient_id")


def _center_of(conn: sa.Connection, patient_id: str | None) -> tuple[bool, str | None]:
    """Whether the patient exists (not deleted), and their center."""
    patients = record_table("patients")
    found = conn.execute(sa.select(patients.c.center).where(patients.c.patient_id == patient_id,
                                                            patients.c.deleted_at.is_(None))).first()
    return (found is not None, found[0] if found else None)


def _require_access(conn: sa.Connection, user: User, table: str, row: Mapping[str, Any], *, write: bool,
                    what: str = "this record") -> None:
    if write and not user.can_write:
        raise AccessError(f"a {user.role.value} reads records but cannot change them; ask an investigator "
                          "or an admin")
    if user.is_admin:
        return
    patient = _patient_of(conn, table, row)
    if table == "patients":
        center = row.get("center")
    else:
        _, center = _center_of(conn, patient)
    if not may_see_patient(user, center):
        raise AccessError(f"{what} belongs to a patient of another center; {user.username} works with the "
                          f"patients of {user.center!r} only")


# ---- reading --------------------------------------------------------------------------------

def _as_record(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "version": row["version"]}
    out.update({c: row[c] for c in record_columns(table)})
    return out


def list_records(store: Store, user: User, table: str, *, filters: Mapping[str, object] | None = None,
                 limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The records of ``table`` that ``user`` may see, in id order, filtered by equality on text
    columns (``{"patient_id": "P01"}``)."""
    t = _check_table(table)
    query = sa.select(t).where(_visible_rows(user, table))
    spec = exchange_format().table(table)
    for name, value in (filters or {}).items():
        if value is None:
            continue
        if name not in spec.column_names or spec.column(name).type not in _STRING_TYPES:
            raise DatasetError([Problem(table, None, name, str(value),
                                        "cannot filter on this column; filter on a text column of the table")])
        query = query.where(t.c[name] == value)
    query = query.order_by(t.c.id).limit(max(0, limit)).offset(max(0, offset))
    with store.engine.connect() as conn:
        return [_as_record(table, r) for r in conn.execute(query).mappings()]


def _current(conn: sa.Connection, table: str, record_id: int) -> dict[str, Any]:
    t = _check_table(table)
    row = conn.execute(sa.select(t).where(t.c.id == record_id)).mappings().first()
    if row is None or row["deleted_at"] is not None:
        raise RecordNotFoundError(f"no {table} record with id {record_id}"
                                  + (" (it was deleted; its history is in the audit trail)" if row else ""))
    return dict(row)


def get_record(store: Store, user: User, table: str, record_id: int) -> dict[str, Any]:
    """One record that ``user`` may see; ``RecordNotFoundError`` or ``AccessError`` otherwise."""
    with store.engine.connect() as conn:
        row = _current(conn, table, record_id)
        _require_access(conn, user, table, row, write=False)
    return _as_record(table, row)


# ---- changing -------------------------------------------------------------------------------

def _validated(conn: sa.Connection, user: User, table: str, values: Mapping[str, object]) -> dict[str, Any]:
    values = dict(values)
    if table == "patients" and not user.is_admin and not str(values.get("center") or "").strip():
        values["center"] = user.center  # an investigator's patients are of their center
    related = {}
    if table == "chaq":
        visits = record_table("assessments")
        rows = conn.execute(sa.select(visits.c.patient_id, visits.c.date).where(
            visits.c.deleted_at.is_(None), visits.c.patient_id == str(values.get("patient_id")))).all()
        related["assessments"] = pl.DataFrame([tuple(r) for r in rows], orient="row",
                                              schema={"patient_id": pl.String, "date": pl.Date})
    typed, problems = validate_record(table, values, related=related)
    if problems:
        raise DatasetError(problems, source=table)
    assert typed is not None
    for column in exchange_format().table(table).columns:
        if column.references and typed[column.name] is not None:
            target = record_table(column.references)
            exists = conn.execute(sa.select(target.c.id).where(target.c[column.name] == typed[column.name],
                                                               target.c.deleted_at.is_(None))).first()
            if exists is None:
                raise DatasetError([Problem(table, None, column.name, str(typed[column.name]),
                                            f"no such {column.name} in {column.references}; add it there first or "
                                            "correct the identifier (identifiers are case-sensitive)")], source=table)
    return typed


def _key(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in exchange_format().table(table).key}


def _same_key(conn: sa.Connection, table: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    t = record_table(table)
    query = sa.select(t)
    for k, v in _key(table, values).items():
        query = query.where(t.c[k].is_(None) if v is None else t.c[k] == v)
    row = conn.execute(query.order_by(t.c.id)).mappings().first()
    return dict(row) if row else None


def _audit(conn: sa.Connection, user: User, action: str, table: str, record_id: int,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, now: dt.datetime) -> None:
    values = after if after is not None else before
    assert values is not None
    conn.execute(audit_log.insert().values(
        at=now, actor=user.username, action=action, table_name=table, record_id=record_id,
        record_key=record_json(_key(table, values)),
        before=record_json(row_values(table, before)) if before is not None else None,
        after=record_json(row_values(table, after)) if after is not None else None,
        import_id=None))


def _describe_key(table: str, values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={'' if v is None else v}" for k, v in _key(table, values).items())


def create_record(store: Store, user: User, table: str, values: Mapping[str, object]) -> dict[str, Any]:
    """Add a record (validated, referenced rows checked, audited) and return it.

    A record whose natural key is already taken is a ``RecordConflictError``, unless the
    record holding it was deleted: then that record is restored with the new values.
    """
    t = _check_table(table)
    now = dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        if not user.can_write:
            _require_access(conn, user, table, values, write=True)
        typed = _validated(conn, user, table, values)
        _require_access(conn, user, table, typed, write=True, what="the new record")
        data = row_values(table, typed)
        existing = _same_key(conn, table, typed)
        if existing is not None and existing["deleted_at"] is None:
            raise RecordConflictError(f"a {table} record with {_describe_key(table, typed)} exists already "
                                      f"(id {existing['id']}); edit that one instead",
                                      current=_as_record(table, existing), submitted=dict(values))
        if existing is not None:
            if not user.is_admin:
                _require_access(conn, user, table, existing, write=True, what="the deleted record with this key")
            conn.execute(t.update().where(t.c.id == existing["id"]).values(
                **data, version=existing["version"] + 1, deleted_at=None, import_id=None, source_file=None,
                source_sha256=None, source_row=None))
            record_id = existing["id"]
            _audit(conn, user, "restore", table, record_id, existing, data, now)
        else:
            record_id = conn.execute(t.insert().values(**data, version=1)).inserted_primary_key[0]
            _audit(conn, user, "insert", table, record_id, None, data, now)
        row = _current(conn, table, record_id)
    return _as_record(table, row)


def _children(conn: sa.Connection, table: str, key_value: object, *, live_only: bool) -> int:
    count = 0
    for spec in exchange_format().tables:
        for column in spec.columns:
            if column.references == table:
                child = record_table(spec.name)
                query = sa.select(sa.func.count()).select_from(child).where(child.c[column.name] == key_value)
                if live_only:
                    query = query.where(child.c.deleted_at.is_(None))
                count += conn.execute(query).scalar_one()
    return count


_REFERENCED_KEY = {"patients": "patient_id", "imaging": "study_id"}


def update_record(store: Store, user: User, table: str, record_id: int, values: Mapping[str, object],
                  version: int) -> dict[str, Any]:
    """Replace the data of a record with ``values`` (every column; a missing one becomes empty).

    ``version`` is the version the edit was made from; a record changed since raises
    ``RecordConflictError`` with the ``current`` and the ``submitted`` versions.
    """
    t = _check_table(table)
    now = dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        current = _current(conn, table, record_id)
        _require_access(conn, user, table, current, write=True)
        if current["version"] != version:
            raise RecordConflictError(
                f"the {table} record {record_id} was changed by someone else since version {version} was read "
                f"(it is now at version {current['version']}); compare both versions and submit again",
                current=_as_record(table, current), submitted={"version": version, **dict(values)})
        typed = _validated(conn, user, table, values)
        _require_access(conn, user, table, typed, write=True, what="the changed record")
        data = row_values(table, typed)
        data["extra"] = current["extra"]
        before = {c: current[c] for c in data}
        if before == data:
            return _as_record(table, current)
        other = _same_key(conn, table, typed)
        if other is not None and other["id"] != record_id:
            raise RecordConflictError(f"another {table} record (id {other['id']}) has {_describe_key(table, typed)}; "
                                      "choose another key or edit that record",
                                      current=_as_record(table, current), submitted=dict(values))
        key = _REFERENCED_KEY.get(table)
        if key and before[key] != data[key] and _children(conn, table, before[key], live_only=False):
            raise RecordConflictError(f"{key} {before[key]!r} cannot change: other records refer to it; "
                                      f"add a new {table} record instead",
                                      current=_as_record(table, current), submitted=dict(values))
        done = conn.execute(t.update().where(t.c.id == record_id, t.c.version == version).values(
            **data, version=version + 1))
        if done.rowcount != 1:  # changed between our read and our write
            raise RecordConflictError(f"the {table} record {record_id} was changed by someone else; try again",
                                      current=_as_record(table, _current(conn, table, record_id)),
                                      submitted={"version": version, **dict(values)})
        _audit(conn, user, "update", table, record_id, before, data, now)
        row = _current(conn, table, record_id)
    return _as_record(table, row)


def delete_record(store: Store, user: User, table: str, record_id: int, version: int | None = None) -> dict[str, Any]:
    """Soft-delete a record (it stays in the database and the audit trail) and return it as it was.

    A patient or imaging study that other records still refer to is not deleted
    (``RecordConflictError``): delete those first. With ``version``, a record changed since
    that version is not deleted either.
    """
    t = _check_table(table)
    now = dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        current = _current(conn, table, record_id)
        _require_access(conn, user, table, current, write=True)
        if version is not None and current["version"] != version:
            raise RecordConflictError(f"the {table} record {record_id} was changed since version {version} "
                                      f"(it is now at version {current['version']}); look at it again before deleting",
                                      current=_as_record(table, current), submitted={"version": version})
        key = _REFERENCED_KEY.get(table)
        if key and (n := _children(conn, table, current[key], live_only=True)):
            raise RecordConflictError(f"{n} record{'s' if n != 1 else ''} still refer{'' if n != 1 else 's'} to "
                                      f"{key} {current[key]!r}; delete {'them' if n != 1 else 'it'} first",
                                      current=_as_record(table, current))
        conn.execute(t.update().where(t.c.id == record_id).values(deleted_at=now, version=current["version"] + 1))
        _audit(conn, user, "delete", table, record_id, current, None, now)
    return _as_record(table, current)


# ---- the audit trail and the evaluation -----------------------------------------------------

def audit_trail(store: Store, user: User, *, table: str | None = None, record_id: int | None = None,
                limit: int = 1000) -> list[dict[str, Any]]:
    """The audit trail, oldest first, of one record, one table or everything, limited to the
    records of the patients ``user`` may see (of every patient, for an admin)."""
    if table is not None:
        _check_table(table)
    query = sa.select(audit_log).order_by(audit_log.c.id)
    if table is not None:
        query = query.where(audit_log.c.table_name == table)
    if record_id is not None:
        query = query.where(audit_log.c.record_id == record_id)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        if not user.is_admin:
            patients, imaging = record_table("patients"), record_table("imaging")
            centers = dict(conn.execute(sa.select(patients.c.patient_id, patients.c.center)).all())
            studies = dict(conn.execute(sa.select(imaging.c.study_id, imaging.c.patient_id)).all())
            rows = [r for r in rows if may_see_patient(user, centers.get(_audited_patient(r, studies)))]
    out = []
    for r in rows[-limit:] if limit else rows:
        out.append({"id": r["id"], "at": _utc(r["at"]).isoformat(), "actor": r["actor"], "action": r["action"],
                    "table": r["table_name"], "record_id": r["record_id"], "key": json.loads(r["record_key"]),
                    "before": json.loads(r["before"]) if r["before"] else None,
                    "after": json.loads(r["after"]) if r["after"] else None, "import_id": r["import_id"]})
    return out


def _audited_patient(row: Mapping[str, Any], studies: Mapping[str, str]) -> str | None:
    values = json.loads(row["after"] or row["before"] or "{}")
    if row["table_name"] == "lesions":
        return studies.get(values.get("study_id"))
    return values.get("patient_id")


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def visible_dataset(store: Store, user: User) -> Dataset:
    """The records of the patients ``user`` may see, as a ``Dataset`` (for ``evaluate``)."""
    dataset = read_store(store)
    if user.is_admin:
        return dataset
    return subset(dataset, visible_patient_ids(store, user))
