"""exchange format 1.1: the tables and columns of what CNO registries record

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00

- new record tables ``manifestations``, ``family_history``, ``biopsies``, ``administrations`` and
  ``complications`` (``exchange/format.yaml``, ``since: "1.1"``), each with the record columns
  every record table has (id, extra, version, deleted_at, import_id, source_file, source_row,
  row_hash), an index on ``patient_id``, and the unique index of its natural key as 0004 made
  them (a nullable key column as ``coalesce(col, '')``);
- new nullable columns ``patients.race_ethnicity``, ``assessments.disease_status`` and
  ``assessments.active_lesion_count``: existing rows get NULL (a version 1 row has no value);
- the content-digest triggers of 0010 on the new tables (SQLite: after update and delete;
  PostgreSQL: per statement, with the function 0010 made);
- an extra attribute that version 1 kept under the name of one of the new columns (a file's
  unknown ``race_ethnicity`` column imported with ``--keep-extra``) moves into that column, where
  its value is one the column takes (any text for ``race_ethnicity``; a choice, as written or
  with spaces for underscores, for ``disease_status``; a whole number >= 0 for
  ``active_lesion_count``); otherwise it stays an extra attribute, renamed
  ``<name> (before format 1.1)``, so that no value is lost and none is read as what it is not.
  Such a row's ``row_hash`` is cleared (its next import compares it column by column).

Downgrade drops the triggers, the tables and the columns (a plain DROP COLUMN: a batch rebuild
would lose the expression indexes of the natural keys, which reflection cannot see).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# table -> (data columns, natural key as (column, nullable)); frozen here, as format 1.1 defines them
TABLES = {
    'manifestations': (
        [sa.Column('condition', sa.String(length=40), nullable=False),
         sa.Column('onset_date', sa.Date(), nullable=True),
         sa.Column('note', sa.Text(), nullable=True)],
        [('patient_id', False), ('condition', False)]),
    'family_history': (
        [sa.Column('condition', sa.String(length=40), nullable=False),
         sa.Column('relative', sa.String(length=40), nullable=False),
         sa.Column('note', sa.Text(), nullable=True)],
        [('patient_id', False), ('condition', False), ('relative', False)]),
    'biopsies': (
        [sa.Column('date', sa.Date(), nullable=False),
         sa.Column('bone', sa.String(length=40), nullable=True),
         sa.Column('side', sa.String(length=40), nullable=True),
         sa.Column('result', sa.String(length=40), nullable=True),
         sa.Column('note', sa.Text(), nullable=True)],
        [('patient_id', False), ('date', False), ('bone', True), ('side', True)]),
    'administrations': (
        [sa.Column('drug', sa.String(length=80), nullable=False),
         sa.Column('date', sa.Date(), nullable=False),
         sa.Column('dose', sa.Float(), nullable=True),
         sa.Column('dose_unit', sa.Text(), nullable=True),
         sa.Column('route', sa.String(length=40), nullable=True)],
        [('patient_id', False), ('drug', False), ('date', False)]),
    'complications': (
        [sa.Column('complication', sa.String(length=40), nullable=False),
         sa.Column('date', sa.Date(), nullable=True),
         sa.Column('bone', sa.String(length=40), nullable=True),
         sa.Column('side', sa.String(length=40), nullable=True),
         sa.Column('note', sa.Text(), nullable=True)],
        [('patient_id', False), ('complication', False), ('bone', True), ('side', True)]),
}
COLUMNS = [
    ('patients', sa.Column('race_ethnicity', sa.Text(), nullable=True)),
    ('assessments', sa.Column('disease_status', sa.String(length=40), nullable=True)),
    ('assessments', sa.Column('active_lesion_count', sa.Integer(), nullable=True)),
]


#: the new columns of existing tables, and what value each takes (frozen here, as format 1.1 defines them)
_MOVED = {
    'patients': {'race_ethnicity': lambda v: v.strip() or None},
    'assessments': {
        'disease_status': lambda v: (v.strip().lower().replace(' ', '_')
                                     if v.strip().lower().replace(' ', '_') in
                                     ('active', 'inactive_on_treatment', 'remission_off_treatment') else None),
        'active_lesion_count': lambda v: int(v.strip()) if v.strip().isdigit() else None,
    },
}


def _move_extras() -> None:
    """Move the extra attributes named like a new column into it (see the module); the rows
    are only those whose extra JSON names one, read one at a time (a one-time step)."""
    bind = op.get_bind()
    for table, columns in _MOVED.items():
        names = list(columns)
        like = ' OR '.join(f"extra LIKE '%\"{n}\"%'" for n in names)
        rows = bind.execute(sa.text(f'SELECT id, extra, {", ".join(names)} FROM "{table}" WHERE {like}')).mappings()
        for row in list(rows):
            extra = json.loads(row['extra'])
            moved = {}
            for name, parse in columns.items():
                if name not in extra:
                    continue
                value = extra.pop(name)
                parsed = parse(value) if isinstance(value, str) else None
                if parsed is not None and row[name] is None:
                    moved[name] = parsed
                else:
                    extra[f'{name} (before format 1.1)'] = value
            sets = ', '.join([f'{n} = :{n}' for n in moved] + ['extra = :extra', 'row_hash = NULL'])
            bind.execute(sa.text(f'UPDATE "{table}" SET {sets} WHERE id = :id'),
                         {**moved, 'id': row['id'],
                          'extra': json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None})


def upgrade() -> None:
    for name, (columns, key) in TABLES.items():
        op.create_table(
            name,
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('patient_id', sa.String(length=200), nullable=False),
            *columns,
            sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
            sa.Column('version', sa.Integer(), server_default='1', nullable=False),
            sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
            sa.Column('import_id', sa.Integer(), nullable=True),
            sa.Column('source_file', sa.Text(), nullable=True),
            sa.Column('source_row', sa.Integer(), nullable=True),
            sa.Column('row_hash', sa.BigInteger(), nullable=True,
                      comment='stable hash of the data columns written by an import (cnotrack.store.changes); '
                              'null after a web edit'),
            sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f(f'fk_{name}_import_id_imports')),
            sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'],
                                    name=op.f(f'fk_{name}_patient_id_patients')),
            sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
        )
        op.create_index(op.f(f'ix_{name}_patient_id'), name, ['patient_id'], unique=False)
        parts = [sa.text(f"coalesce({c}, '')") if nullable else c for c, nullable in key]
        op.create_index(f'uq_{name}_key', name, parts, unique=True)
    for table, column in COLUMNS:
        op.add_column(table, column)
    _move_extras()
    if op.get_bind().dialect.name == 'postgresql':
        for name in TABLES:
            op.execute(sa.text(f'CREATE TRIGGER "{name}_content_changed" AFTER INSERT OR UPDATE OR DELETE OR '
                               f'TRUNCATE ON "{name}" FOR EACH STATEMENT EXECUTE FUNCTION cnotrack_content_changed()'))
    else:
        for name in TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(sa.text(f'CREATE TRIGGER "{name}_content_{event.lower()}" AFTER {event} ON "{name}" '
                                   f"BEGIN DELETE FROM content_digests WHERE table_name = '{name}'; END"))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name in reversed(list(TABLES)):
        if postgresql:
            op.execute(sa.text(f'DROP TRIGGER "{name}_content_changed" ON "{name}"'))
        else:
            for event in ("update", "delete"):
                op.execute(sa.text(f'DROP TRIGGER "{name}_content_{event}"'))
        op.drop_index(f'uq_{name}_key', table_name=name)
        op.drop_index(op.f(f'ix_{name}_patient_id'), table_name=name)
        op.drop_table(name)
    for table, column in reversed(COLUMNS):
        op.execute(sa.text(f'ALTER TABLE "{table}" DROP COLUMN "{column.name}"'))
