"""Reading and changing single records, as a user: what the web pages and the JSON API call.

Every function takes the ``Store``, the acting :class:`~cnotrack.users.User` and a table of the
exchange format, and enforces the same rules:

- **Roles and centers.** A viewer reads; an investigator also creates, edits and deletes; both
  only for the patients of their own center (``patients.center``), and a record belongs to the
  patient it names (a lesion to the patient of its imaging study). An admin reads and changes
  everything. A write by a viewer raises ``AccessError``. A record of another center, live or
  deleted, is answered exactly as a record that does not exist (``RecordNotFoundError``, or the
  exchange format's "no such patient_id" for a reference), so that no answer tells whether it
  exists; a natural key held by another center's record is a ``RecordConflictError`` that names
  only the submitted key, the same whether the holder is live or deleted.
- **The exchange format's rules.** A record is validated exactly as a row of a dataset file
  (:func:`cnotrack.exchange.records.validate_record`); the patient or study it refers to must
  exist. Problems raise ``DatasetError`` with every problem.
- **Nothing lost.** Each change writes the audit trail (who, when, which record, the row before
  and after) in the same transaction as the change. Deletes are soft: the row stays, with
  ``deleted_at`` set, and is no longer read.
- **No silent overwrite.** An update names the ``version`` it was made from; if the record has
  changed since, ``RecordConflictError`` carries both versions. Natural keys are unique in the
  database: of simultaneous creates (or edits) of one key, one wins and the others get
  ``RecordConflictError``, never a duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

from .audit import audit_trail, audit_trail_batches  # the audit trail, as a user may read it
from .errors import AccessError, DatasetError, Problem, RecordConflictError, RecordNotFoundError
from .exchange.dataset import Dataset, subset
from .exchange.records import validate_record
from .exchange.schema import exchange_format
from .store.database import Store
from .store.exporter import read_store
from .store.importer import record_json, row_values
from .store.schema import audit_log, record_table
from .store.state import mark_changed
from .users import User

__all__ = ["RECORD_TYPES", "audit_trail", "audit_trail_batches", "create_record", "delete_record", "dependent_records",
           "get_record", "list_records", "may_see_patient", "record_columns", "record_history", "restore_record",
           "update_record", "visible_dataset", "visible_patient_ids", "visible_rows"]

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


def visible_rows(user: User, table: str) -> sa.ColumnElement[bool]:
    """The SQL condition of the live rows of ``table`` that ``user`` may see: every row for an
    admin, else the rows of the patients of the user's center (lesions through their study).
    The one definition of center isolation: every query of records ANDs it."""
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


def _center_of(conn: sa.Connection, patient_id: object) -> tuple[bool, str | None]:
    """Whether the patient exists (deleted or not), and their center."""
    patients = record_table("patients")
    found = conn.execute(sa.select(patients.c.center).where(patients.c.patient_id == patient_id)).first()
    return (found is not None, found[0] if found else None)


def _record_center(conn: sa.Connection, table: str, row: Mapping[str, Any]) -> str | None:
    """The center of the patient a record belongs to, deleted rows included (a lesion belongs
    to the patient of its imaging study; a patient record carries its center)."""
    if table == "patients":
        return row.get("center")
    if table == "lesions":
        imaging = record_table("imaging")
        patient = conn.execute(sa.select(imaging.c.patient_id)
                               .where(imaging.c.study_id == row.get("study_id"))).scalar()
        return _center_of(conn, patient)[1]
    return _center_of(conn, row.get("patient_id"))[1]


def _may_see(conn: sa.Connection, user: User, table: str, row: Mapping[str, Any]) -> bool:
    return user.is_admin or may_see_patient(user, _record_center(conn, table, row))


def _require_writer(user: User) -> None:
    if not user.can_write:
        raise AccessError(f"a {user.role.value} reads records but cannot change them; ask an investigator "
                          "or an admin")


def _require_access(conn: sa.Connection, user: User, table: str, row: Mapping[str, Any], *, write: bool,
                    what: str = "this record") -> None:
    if write:
        _require_writer(user)
    if not _may_see(conn, user, table, row):
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
    query = sa.select(t).where(visible_rows(user, table))
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


def _not_found(table: str, record_id: int) -> RecordNotFoundError:
    return RecordNotFoundError(f"no {table} record with id {record_id}")


def _current(conn: sa.Connection, user: User, table: str, record_id: int) -> dict[str, Any]:
    """The live record ``record_id`` if ``user`` may see it. A record of another center, live or
    deleted, is answered exactly as an id that does not exist."""
    t = _check_table(table)
    row = conn.execute(sa.select(t).where(t.c.id == record_id)).mappings().first()
    if row is None or not _may_see(conn, user, table, row):
        raise _not_found(table, record_id)
    if row["deleted_at"] is not None:
        raise RecordNotFoundError(f"no {table} record with id {record_id} (it was deleted; its history is in "
                                  "the audit trail)")
    return dict(row)


def get_record(store: Store, user: User, table: str, record_id: int) -> dict[str, Any]:
    """One record that ``user`` may see; ``RecordNotFoundError`` otherwise (also for a record of
    another center, so that its existence is not revealed)."""
    with store.engine.connect() as conn:
        row = _current(conn, user, table, record_id)
    return _as_record(table, row)


# ---- changing -------------------------------------------------------------------------------

def _visible_reference(conn: sa.Connection, user: User, target_table: str, column: str, value: object) -> bool:
    """Whether the patient or study ``value`` exists, is not deleted and ``user`` may see it (a
    patient or study of another center is answered as one that does not exist)."""
    target = record_table(target_table)
    query = sa.select(target.c.id).where(target.c[column] == value, visible_rows(user, target_table))
    return conn.execute(query).first() is not None


def _validated(conn: sa.Connection, user: User, table: str, values: Mapping[str, object]) -> dict[str, Any]:
    values = dict(values)
    if table == "patients" and not user.is_admin and not str(values.get("center") or "").strip():
        values["center"] = user.center  # an investigator's patients are of their center
    related = {}
    patient_id = str(values.get("patient_id"))
    if table == "chaq" and "\x00" not in patient_id:  # a NUL: refused below, and PostgreSQL cannot take it
        visits = record_table("assessments")
        rows = conn.execute(sa.select(visits.c.patient_id, visits.c.date).where(
            visits.c.deleted_at.is_(None), visits.c.patient_id == patient_id,
            visits.c.patient_id.in_(_visible_patients(user)))).all()
        related["assessments"] = pl.DataFrame([tuple(r) for r in rows], orient="row",
                                              schema={"patient_id": pl.String, "date": pl.Date})
    typed, problems = validate_record(table, values, related=related)
    if problems:
        raise DatasetError(problems, source=table)
    assert typed is not None
    for column in exchange_format().table(table).columns:
        if column.references and typed[column.name] is not None:
            if not _visible_reference(conn, user, column.references, column.name, typed[column.name]):
                raise DatasetError([Problem(table, None, column.name, str(typed[column.name]),
                                            f"no such {column.name} in {column.references}; add it there first or "
                                            "correct the identifier (identifiers are case-sensitive)")], source=table)
    return typed


def _key(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in exchange_format().table(table).key}


def _same_key(conn: sa.Connection, table: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record (live or deleted, of any center) holding the natural key of ``values``."""
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
    mark_changed(conn)  # every record change is audited here: the data state moves with it


def _describe_key(table: str, values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={'' if v is None else v}" for k, v in _key(table, values).items())


def _unavailable(table: str, typed: Mapping[str, Any], submitted: Mapping[str, object]) -> RecordConflictError:
    """A key held by a record ``user`` may not see (another center's, live or deleted): the
    answer names only the submitted key, never the holder, and is the same for a deleted holder."""
    return RecordConflictError(f"{_describe_key(table, typed)} is not available for a new {table} record (it is "
                               "taken by a record you cannot see); choose another identifier",
                               current=None, submitted=dict(submitted))


class _LostRace(Exception):
    """Another request changed the row between our read and our write."""


def create_record(store: Store, user: User, table: str, values: Mapping[str, object]) -> dict[str, Any]:
    """Add a record (validated, referenced rows checked, audited) and return it.

    A record whose natural key is already taken is a ``RecordConflictError``, unless the
    record holding it was deleted: then that record is restored with the new values. A key
    taken by another center's record (live or deleted) is a ``RecordConflictError`` that tells
    nothing of that record. Two simultaneous creates of one key store one record: the other
    gets the ``RecordConflictError``.
    """
    _check_table(table)
    _require_writer(user)
    try:
        return _create(store, user, table, values)
    except (sa.exc.IntegrityError, _LostRace) as exc:
        race: Exception = exc
    with store.engine.connect() as conn:
        typed = _validated(conn, user, table, values)
        existing = _same_key(conn, table, typed)
        if existing is None or existing["deleted_at"] is not None:
            raise race
        if not _may_see(conn, user, table, existing):
            raise _unavailable(table, typed, values) from None
        raise RecordConflictError(f"a {table} record with {_describe_key(table, typed)} was created at the same "
                                  f"time (id {existing['id']}); edit that one instead",
                                  current=_as_record(table, existing), submitted=dict(values)) from None


def _create(store: Store, user: User, table: str, values: Mapping[str, object]) -> dict[str, Any]:
    t = record_table(table)
    now = dt.datetime.now(dt.timezone.utc)
    with store.begin_write() as conn:  # on SQLite: waits for another writer, then reads
        typed = _validated(conn, user, table, values)
        _require_access(conn, user, table, typed, write=True, what="the new record")
        data = row_values(table, typed)
        existing = _same_key(conn, table, typed)
        if existing is not None and not _may_see(conn, user, table, existing):
            raise _unavailable(table, typed, values)
        if existing is not None and existing["deleted_at"] is None:
            raise RecordConflictError(f"a {table} record with {_describe_key(table, typed)} exists already "
                                      f"(id {existing['id']}); edit that one instead",
                                      current=_as_record(table, existing), submitted=dict(values))
        if existing is not None:
            done = conn.execute(t.update().where(t.c.id == existing["id"], t.c.version == existing["version"]).values(
                **data, version=existing["version"] + 1, deleted_at=None, import_id=None, source_file=None,
                source_row=None, row_hash=None))
            if done.rowcount != 1:
                raise _LostRace()
            record_id = existing["id"]
            _audit(conn, user, "restore", table, record_id, existing, data, now)
        else:
            record_id = conn.execute(t.insert().values(**data, version=1)).inserted_primary_key[0]
            _audit(conn, user, "insert", table, record_id, None, data, now)
        row = _current(conn, user, table, record_id)
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


def _key_held(conn: sa.Connection, user: User, table: str, record_id: int, typed: Mapping[str, Any],
              current: Mapping[str, Any], submitted: Mapping[str, object]) -> RecordConflictError | None:
    """The conflict of an edit that gives a record the key another record holds, if it does."""
    other = _same_key(conn, table, typed)
    if other is None or other["id"] == record_id:
        return None
    if not _may_see(conn, user, table, other):
        return RecordConflictError(f"{_describe_key(table, typed)} is not available (it is taken by a record you "
                                   "cannot see); choose another key",
                                   current=_as_record(table, current), submitted=dict(submitted))
    return RecordConflictError(f"another {table} record (id {other['id']}) has {_describe_key(table, typed)}; "
                               "choose another key or edit that record",
                               current=_as_record(table, current), submitted=dict(submitted))


def update_record(store: Store, user: User, table: str, record_id: int, values: Mapping[str, object],
                  version: int) -> dict[str, Any]:
    """Replace the data of a record with ``values`` (every column; a missing one becomes empty).

    ``version`` is the version the edit was made from; a record changed since raises
    ``RecordConflictError`` with the ``current`` and the ``submitted`` versions.
    """
    _check_table(table)
    _require_writer(user)
    try:
        return _update(store, user, table, record_id, values, version)
    except sa.exc.IntegrityError as exc:
        race = exc
    with store.engine.connect() as conn:
        current = _current(conn, user, table, record_id)
        conflict = _key_held(conn, user, table, record_id, _validated(conn, user, table, values), current, values)
        if conflict is None:
            raise race
        raise conflict from None


def _update(store: Store, user: User, table: str, record_id: int, values: Mapping[str, object],
            version: int) -> dict[str, Any]:
    t = record_table(table)
    now = dt.datetime.now(dt.timezone.utc)
    with store.begin_write() as conn:  # on SQLite: waits for another writer, then reads
        current = _current(conn, user, table, record_id)
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
        conflict = _key_held(conn, user, table, record_id, typed, current, values)
        if conflict is not None:
            raise conflict
        key = _REFERENCED_KEY.get(table)
        if key and before[key] != data[key] and _children(conn, table, before[key], live_only=False):
            raise RecordConflictError(f"{key} {before[key]!r} cannot change: other records refer to it; "
                                      f"add a new {table} record instead",
                                      current=_as_record(table, current), submitted=dict(values))
        done = conn.execute(t.update().where(t.c.id == record_id, t.c.version == version).values(
            **data, version=version + 1, row_hash=None))  # an import compares this row by value
        if done.rowcount != 1:  # changed between our read and our write
            raise RecordConflictError(f"the {table} record {record_id} was changed by someone else; try again",
                                      current=_as_record(table, _current(conn, user, table, record_id)),
                                      submitted={"version": version, **dict(values)})
        _audit(conn, user, "update", table, record_id, before, data, now)
        row = _current(conn, user, table, record_id)
    return _as_record(table, row)


def _mark_deleted(conn, table: str, record_id: int, version: int, deleted_at, doing: str) -> None:
    """Set the record's ``deleted_at`` (``None``: live again) if it is still at ``version``, and
    step its version; a record changed meanwhile is a ``RecordConflictError``."""
    t = record_table(table)
    done = conn.execute(t.update().where(t.c.id == record_id, t.c.version == version)
                        .values(deleted_at=deleted_at, version=version + 1))
    if done.rowcount != 1:
        raise RecordConflictError(f"the {table} record {record_id} was changed by someone else while it was "
                                  f"being {doing}; look at it again", current=None)


def delete_record(store: Store, user: User, table: str, record_id: int, version: int | None = None) -> dict[str, Any]:
    """Soft-delete a record (it stays in the database and the audit trail) and return it as it was.

    A patient or imaging study that other records still refer to is not deleted
    (``RecordConflictError``): delete those first. With ``version``, a record changed since
    that version is not deleted either.
    """
    _check_table(table)
    _require_writer(user)
    return _delete(store, user, table, record_id, version)


def _delete(store: Store, user: User, table: str, record_id: int, version: int | None) -> dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc)
    with store.begin_write() as conn:  # on SQLite: waits for another writer, then reads
        current = _current(conn, user, table, record_id)
        if version is not None and current["version"] != version:
            raise RecordConflictError(f"the {table} record {record_id} was changed since version {version} "
                                      f"(it is now at version {current['version']}); look at it again before deleting",
                                      current=_as_record(table, current), submitted={"version": version})
        key = _REFERENCED_KEY.get(table)
        if key and (n := _children(conn, table, current[key], live_only=True)):
            raise RecordConflictError(f"{n} record{'s' if n != 1 else ''} still refer{'' if n != 1 else 's'} to "
                                      f"{key} {current[key]!r}; delete {'them' if n != 1 else 'it'} first",
                                      current=_as_record(table, current))
        _mark_deleted(conn, table, record_id, current["version"], now, "deleted")
        _audit(conn, user, "delete", table, record_id, current, None, now)
    return _as_record(table, current)


# ---- before a delete, after a delete: dependents, history, restore ----------------------------

def dependent_records(store: Store, user: User, table: str, record_id: int) -> dict[str, int]:
    """The live records of other tables that refer to the live record ``record_id`` (a
    patient's treatments, visits, ...; an imaging study's lesions), counted per table (tables
    with none left out). A patient or study with any is not deleted (``delete_record`` refuses:
    deletes do not cascade). ``RecordNotFoundError`` as ``get_record``."""
    _check_table(table)
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        current = _current(conn, user, table, record_id)
        key = _REFERENCED_KEY.get(table)
        if key is None:
            return counts
        for spec in exchange_format().tables:
            for column in spec.columns:
                if column.references == table:
                    child = record_table(spec.name)
                    n = conn.execute(sa.select(sa.func.count()).select_from(child).where(
                        child.c[column.name] == current[key], child.c.deleted_at.is_(None))).scalar_one()
                    if n:
                        counts[spec.name] = counts.get(spec.name, 0) + n
    return counts


def _any_state(conn: sa.Connection, user: User, table: str, record_id: int) -> dict[str, Any]:
    """The record ``record_id``, live or deleted, if ``user`` may see it; a record of another
    center is answered exactly as an id that does not exist."""
    t = _check_table(table)
    row = conn.execute(sa.select(t).where(t.c.id == record_id)).mappings().first()
    if row is None or not _may_see(conn, user, table, row):
        raise _not_found(table, record_id)
    return dict(row)


def record_history(store: Store, user: User, table: str, record_id: int, *, limit: int = 200,
                   offset: int = 0) -> dict[str, Any]:
    """A record, live or deleted, and its audit trail, newest first (``limit`` entries from the
    ``offset`` newest): ``{"record": {id, version, columns...}, "deleted": bool, "deleted_at":
    datetime or None, "entries": [...]}``. Any user who may see the record's patient may read it
    (a deleted record included); a record of another center is a ``RecordNotFoundError``, the
    same as an id that does not exist."""
    with store.engine.connect() as conn:
        row = _any_state(conn, user, table, record_id)
    entries = audit_trail(store, user, table=table, record_id=record_id, limit=limit, offset=offset)
    return {"record": _as_record(table, row), "deleted": row["deleted_at"] is not None,
            "deleted_at": row["deleted_at"], "entries": list(reversed(entries))}


def restore_record(store: Store, user: User, table: str, record_id: int) -> dict[str, Any]:
    """Bring back a deleted record with the values it had when it was deleted (admins only:
    ``AccessError`` for anyone else), audited as ``restore``, and return it.

    Refused with ``RecordConflictError`` when the record is not deleted, when a live record
    holds its natural key (or, for a lesion, its ``lesion_id`` in the study), or when the
    patient or imaging study it belongs to is deleted (restore that first). A record that does
    not exist is a ``RecordNotFoundError``."""
    _check_table(table)
    if not user.is_admin:
        raise AccessError(f"a {user.role.value} cannot restore deleted records; ask an admin")
    now = dt.datetime.now(dt.timezone.utc)
    with store.begin_write() as conn:  # on SQLite: waits for another writer, then reads
        row = _any_state(conn, user, table, record_id)
        if row["deleted_at"] is None:
            raise RecordConflictError(f"the {table} record {record_id} is not deleted; there is nothing to restore",
                                      current=_as_record(table, row))
        live = record_table(table)
        query = sa.select(live.c.id).where(live.c.id != record_id, live.c.deleted_at.is_(None))
        for k, v in _key(table, row).items():
            query = query.where(live.c[k].is_(None) if v is None else live.c[k] == v)
        holder, what = conn.execute(query).scalar(), f"its key ({_describe_key(table, row)})"
        if holder is None and table == "lesions" and row["lesion_id"] is not None:
            holder, what = conn.execute(sa.select(live.c.id).where(
                live.c.id != record_id, live.c.deleted_at.is_(None), live.c.study_id == row["study_id"],
                live.c.lesion_id == row["lesion_id"])).scalar(), f"its lesion_id {row['lesion_id']!r} in the study"
        if holder is not None:
            raise RecordConflictError(f"the {table} record {record_id} cannot be restored: the live record {holder} "
                                      f"has {what}; edit or delete that one first", current=_as_record(table, row))
        for column in exchange_format().table(table).columns:
            value = row[column.name]
            if column.references and value is not None and not _visible_reference(
                    conn, user, column.references, column.name, value):
                raise RecordConflictError(f"the {table} record {record_id} cannot be restored: its {column.name} "
                                          f"{value!r} is deleted; restore that {column.references} record first",
                                          current=_as_record(table, row))
        _mark_deleted(conn, table, record_id, row["version"], None, "restored")
        _audit(conn, user, "restore", table, record_id, None, {c: row[c] for c in row_values(table, {})}, now)
        restored = _current(conn, user, table, record_id)
    return _as_record(table, restored)


# ---- the evaluation -------------------------------------------------------------------------

def visible_dataset(store: Store, user: User) -> Dataset:
    """The records of the patients ``user`` may see, as a ``Dataset`` (for ``evaluate``)."""
    dataset = read_store(store)
    if user.is_admin:
        return dataset
    return subset(dataset, visible_patient_ids(store, user))
