"""The database schema: one table per exchange-format table, plus imports and the audit trail.

The record tables are built from the exchange format definition (``exchange/format.yaml``),
so the store holds exactly what the format carries: the tables and columns of format 1.1 too
(migration 0011 adds them to a database made before), with the same record columns, indexes
and natural keys as every other record table. Each record row also has:

- ``id`` (surrogate key), ``version`` (raised on every change, for stale-edit detection),
  ``deleted_at`` (deletes are soft);
- ``extra``: the extra attributes kept with ``--keep-extra``, as a JSON object;
- provenance: ``import_id``, ``source_file``, ``source_row`` (the file's SHA-256 is in
  ``imports.files``: ``cnotrack.store.provenance``);
- ``row_hash``: the stable hash of its data columns that the import compares (null after a web edit).

``data_state`` is one row whose ``generation`` every write of clinical data raises in its own
transaction (``cnotrack.store.state``), so that a cache of an evaluation can tell, with one
query, whether the data changed. ``content_digests`` holds, per record table, the digest of its
rows' hashes as an import left them, valid while the generation is the one it names
(``cnotrack.store.digests``): an unchanged re-import then reads no stored row. Triggers
on the record tables (made by the migration) remove a table's digest on any update or delete,
from cnotrack or not.

The web application adds ``users`` (argon2id password hashes, a role, a center) and
``sessions`` (the SHA-256 of each signed-in browser's session token, with its CSRF token).

The schema is created and upgraded by Alembic migrations (``store/migrations``); a test
checks that the migrations produce exactly this metadata.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..exchange.schema import ColumnSpec, exchange_format

__all__ = ["RECORD_TABLES", "audit_log", "content_digests", "data_state", "imports", "metadata", "record_table", "sessions", "users"]

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

_SQL_TYPES = {
    "id": sa.String(200), "text": sa.Text(), "date": sa.Date(), "partial_date": sa.String(10),
    "boolean": sa.Boolean(), "number": sa.Float(), "integer": sa.Integer(), "lab_value": sa.Float(),
    "choice": sa.String(40), "drug": sa.String(80), "lab_test": sa.String(20), "bone": sa.String(40),
    "lab_unit": sa.String(20),
}

imports = sa.Table(
    "imports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("files", sa.Text, nullable=False, comment="JSON: file name -> SHA-256"),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("imported_by", sa.String(200), nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("unchanged", sa.Integer, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False,
              comment="insert, update, delete, restore; for security events see cnotrack.users"),
    sa.Column("table_name", sa.String(40), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=True, comment="null only for a security event without a user"),
    sa.Column("last_record_id", sa.Integer, nullable=True,
              comment="an import's added rows: record_id to last_record_id, one audit row per run of ids"),
    sa.Column("record_key", sa.Text, nullable=False, comment="JSON of the natural key"),
    sa.Column("before", sa.Text, nullable=True, comment="JSON of the row before"),
    sa.Column("after", sa.Text, nullable=True, comment="JSON of the row after"),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=True),
    sa.Column("kind", sa.String(10), nullable=False, server_default="record",
              comment="record: a change of a record; security: a sign-in, user change or report download"),
    sa.Index("ix_audit_log_record", "table_name", "record_id"),
    sa.Index("ix_audit_log_kind", "kind"),
    sa.Index("ix_audit_log_at", "at"),  # the audit page's date range and newest-first order (0012)
)
# the audit page's user filter, in any case (0012)
sa.Index("ix_audit_log_actor", sa.func.lower(audit_log.c.actor))

data_state = sa.Table(
    "data_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False, comment="always 1: one row"),
    sa.Column("store_id", sa.String(32), nullable=False,
              comment="random, set when the row is made: a database made again gets another"),
    sa.Column("generation", sa.BigInteger, nullable=False,
              comment="raised in the transaction of every write of clinical data (cnotrack.store.state)"),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

content_digests = sa.Table(
    "content_digests", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("table_name", sa.String(40), nullable=False, unique=True),
    sa.Column("generation", sa.BigInteger, nullable=False,
              comment="data_state.generation when recorded: the digest holds while it is the same"),
    sa.Column("rows", sa.BigInteger, nullable=False, comment="the table's live rows"),
    sa.Column("stored_rows", sa.BigInteger, nullable=False, comment="the table's rows, deleted ones too"),
    sa.Column("digest", sa.String(64), nullable=False,
              comment="SHA-256 of the live rows' row_hash values, sorted (cnotrack.store.digests)"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(200), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False, comment="argon2id, PHC string format"),
    sa.Column("role", sa.String(20), nullable=False, comment="admin, investigator or viewer"),
    sa.Column("center", sa.Text, nullable=True, comment="the patients.center this user works in"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("username_key", sa.String(200), nullable=False, unique=True,
              comment="lower(username): usernames are case-insensitive, every lookup uses this"),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True,
              comment="deleted users keep their row (and name) so that the audit trail stays unambiguous"),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True,
              comment="SHA-256 of the session cookie's token; the token itself is never stored"),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False,
              comment="the last request (updated at most once a minute), for the idle timeout"),
)


def _column(spec: ColumnSpec, table: str) -> list[sa.Column]:
    args: list[object] = []
    if spec.references:
        key = "patient_id" if spec.references == "patients" else "study_id"
        args.append(sa.ForeignKey(f"{spec.references}.{key}"))
    unique = (table, spec.name) in {("patients", "patient_id"), ("imaging", "study_id")}
    cols = [sa.Column(spec.name, _SQL_TYPES[spec.type], *args, nullable=not spec.required,
                      unique=unique, index=bool(spec.references))]
    if spec.type == "lab_value":
        cols.append(sa.Column("censor", sa.String(1), nullable=True, comment="'<' or '>' for a censored value"))
    return cols


def _record_table(name: str) -> sa.Table:
    spec = exchange_format().table(name)
    columns = [c for col in spec.columns for c in _column(col, name)]
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        *columns,
        sa.Column("extra", sa.Text, nullable=True, comment="JSON of extra attributes kept at import"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=True),
        sa.Column("source_file", sa.Text, nullable=True),
        sa.Column("source_row", sa.Integer, nullable=True),
        sa.Column("row_hash", sa.BigInteger, nullable=True,
                  comment="stable hash of the data columns written by an import (cnotrack.store.changes); "
                          "null after a web edit"),
    )


def _natural_key_indexes(table: sa.Table) -> None:
    """One row per natural key (``exchange/format.yaml``: ``key``), enforced by the database, so
    that two writers racing cannot both add the same record; soft-deleted rows keep their key.
    A key column that may be empty (a lesion's side, segment) is indexed as ``coalesce(col, '')``:
    SQL counts NULLs as distinct, and '' is never a stored value (an empty cell is NULL)."""
    spec = exchange_format().table(table.name)
    key = list(spec.key)
    if len(key) == 1 and table.c[key[0]].unique:
        return  # patients.patient_id, imaging.study_id: a unique constraint already
    parts = [table.c[k] if not table.c[k].nullable else sa.func.coalesce(table.c[k], sa.literal_column("''"))
             for k in key]
    sa.Index(f"uq_{table.name}_key", *parts, unique=True)
    if table.name == "lesions":
        # a lesion_id names one lesion of its study (among the lesions not deleted)
        live_named = sa.and_(table.c.lesion_id.is_not(None), table.c.deleted_at.is_(None))
        sa.Index("uq_lesions_lesion_id", table.c.study_id, table.c.lesion_id, unique=True,
                 sqlite_where=live_named, postgresql_where=live_named)


RECORD_TABLES: dict[str, sa.Table] = {name: _record_table(name) for name in exchange_format().table_names}
for _table in RECORD_TABLES.values():
    _natural_key_indexes(_table)


def record_table(name: str) -> sa.Table:
    return RECORD_TABLES[name]
