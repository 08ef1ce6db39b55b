"""natural keys unique in the database (no duplicate rows under concurrency)

Each record table gets a unique index over its natural key (``exchange/format.yaml``: ``key``;
a nullable key column as ``coalesce(col, '')``, since SQL counts NULLs as distinct), and
lesions one more: a ``lesion_id`` names one live lesion of its study.

A database written before this revision may hold duplicates that a race made. Duplicates whose
values are all equal (what a race makes: the same record stored twice) are merged: the first
row (a live one if any) is kept, the others are removed, and each removal is written to the
audit trail with the row as it was. Rows that share a key but differ in a value are not
guessed at: the migration stops with a ``StoreError`` that names the table, the key and the
record ids, and changes nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:40:00
"""
import datetime as dt
import json

from alembic import op
import sqlalchemy as sa

from cnotrack.errors import StoreError


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# table -> natural key; (column, nullable)
KEYS = {
    'treatments': [('patient_id', False), ('drug', False), ('start_date', False)],
    'assessments': [('patient_id', False), ('date', False)],
    'labs': [('patient_id', False), ('date', False), ('test', False)],
    'lesions': [('study_id', False), ('bone', False), ('side', True), ('segment', True)],
    'adverse_events': [('patient_id', False), ('onset_date', False), ('term', False)],
    'diagnosis': [('patient_id', False)],
    'chaq': [('patient_id', False), ('date', False)],
}
_BOOKKEEPING = {'id', 'version', 'deleted_at', 'import_id', 'source_file', 'source_sha256', 'source_row'}
_LIVE_NAMED = "lesion_id IS NOT NULL AND deleted_at IS NULL"


def _key_sql(key):
    return [f"coalesce({c}, '')" if nullable else c for c, nullable in key]


def upgrade() -> None:
    conn = op.get_bind()
    for table, key in KEYS.items():
        _merge_identical_duplicates(conn, table, key)
    _refuse_shared_lesion_ids(conn)
    for table, key in KEYS.items():
        op.create_index(f'uq_{table}_key', table, [sa.text(part) if '(' in part else part for part in _key_sql(key)],
                        unique=True)
    op.create_index('uq_lesions_lesion_id', 'lesions', ['study_id', 'lesion_id'], unique=True,
                    sqlite_where=sa.text(_LIVE_NAMED), postgresql_where=sa.text(_LIVE_NAMED))


def downgrade() -> None:
    op.drop_index('uq_lesions_lesion_id', table_name='lesions')
    for table in reversed(list(KEYS)):
        op.drop_index(f'uq_{table}_key', table_name=table)


def _merge_identical_duplicates(conn, table, key) -> None:
    parts = ", ".join(_key_sql(key))
    groups = conn.execute(sa.text(
        f"SELECT {parts}, count(*) FROM {table} GROUP BY {parts} HAVING count(*) > 1")).all()
    if not groups:
        return
    t = sa.Table(table, sa.MetaData(), autoload_with=conn)
    data = [c for c in t.c if c.name not in _BOOKKEEPING]
    now = dt.datetime.now(dt.timezone.utc)
    for group in groups:
        where = [sa.func.coalesce(t.c[c], '') == v if nullable else t.c[c] == v
                 for (c, nullable), v in zip(key, group[:len(key)])]
        rows = [dict(r) for r in conn.execute(sa.select(t).where(*where).order_by(t.c.id)).mappings()]
        values = [tuple(r[c.name] for c in data) for r in rows]
        if len(set(values)) > 1:
            raise StoreError(
                f"cannot make the natural key of {table} unique: the records {', '.join(str(r['id']) for r in rows)} "
                f"share one {' + '.join(c for c, _ in key)} but differ in their values (duplicates an older "
                f"cnotrack let two simultaneous writers make); keep one of them: delete the others with an "
                f"SQL client (DELETE FROM {table} WHERE id IN (...)), then open the database again. Nothing "
                "was changed.")
        keep = next((r for r in rows if r['deleted_at'] is None), rows[0])
        for row in rows:
            if row['id'] == keep['id']:
                continue
            conn.execute(t.delete().where(t.c.id == row['id']))
            before = {c.name: row[c.name] for c in data}
            conn.execute(sa.text(
                "INSERT INTO audit_log (at, actor, action, table_name, record_id, record_key, before, after, import_id) "
                "VALUES (:at, :actor, 'delete', :table, :id, :key, :before, NULL, NULL)"),
                {"at": now, "actor": "cnotrack migration 0004 (merged a duplicate of record %d)" % keep['id'],
                 "table": table, "id": row['id'], "key": _json({c: row[c] for c, _ in key}),
                 "before": _json(before)})


def _refuse_shared_lesion_ids(conn) -> None:
    shared = conn.execute(sa.text(
        f"SELECT study_id, lesion_id, min(id), max(id) FROM lesions WHERE {_LIVE_NAMED} "
        "GROUP BY study_id, lesion_id HAVING count(*) > 1")).all()
    if shared:
        first = shared[0]
        raise StoreError(
            f"cannot make lesion_id unique per study: {len(shared)} lesion_id(s) name more than one lesion of "
            f"their study (first: the lesions with the ids {first[2]} and {first[3]}); give each lesion its own "
            "lesion_id (or clear it) with an SQL client, then open the database again. Nothing was changed.")


def _json(values) -> str:
    return json.dumps(values, default=lambda v: v.isoformat(), sort_keys=True, ensure_ascii=False)
