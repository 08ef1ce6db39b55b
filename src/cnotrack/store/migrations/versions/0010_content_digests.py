"""the digest of each record table's rows, so that an unchanged re-import reads no stored row

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:40:00

- ``content_digests``: per record table, the SHA-256 of its live rows' ``row_hash`` values
  (sorted) as the last import that wrote the table left it, with the ``data_state.generation``
  it holds for and the table's row count then (``cnotrack.store.digests``). Empty at first: an
  existing database gets its digests from its next import that writes.
- triggers on every record table that remove the table's digest on any update or delete, made
  by cnotrack or by SQL typed into the database (on PostgreSQL on inserts and truncates too, once
  per statement; on SQLite an insert is seen by the row count).
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ("patients", "treatments", "assessments", "labs", "imaging", "lesions", "adverse_events", "diagnosis",
          "chaq")


def upgrade() -> None:
    op.create_table(
        'content_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False,
                  comment='data_state.generation when recorded: the digest holds while it is the same'),
        sa.Column('rows', sa.BigInteger(), nullable=False, comment="the table's live rows"),
        sa.Column('stored_rows', sa.BigInteger(), nullable=False, comment="the table's rows, deleted ones too"),
        sa.Column('digest', sa.String(length=64), nullable=False,
                  comment="SHA-256 of the live rows' row_hash values, sorted (cnotrack.store.digests)"),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_digests')),
        sa.UniqueConstraint('table_name', name=op.f('uq_content_digests_table_name')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.text(
            "CREATE FUNCTION cnotrack_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN DELETE FROM content_digests WHERE table_name = TG_TABLE_NAME; RETURN NULL; END $$"))
        for name in TABLES:
            op.execute(sa.text(f'CREATE TRIGGER "{name}_content_changed" AFTER INSERT OR UPDATE OR DELETE OR '
                               f'TRUNCATE ON "{name}" FOR EACH STATEMENT EXECUTE FUNCTION cnotrack_content_changed()'))
    else:
        for name in TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(sa.text(f'CREATE TRIGGER "{name}_content_{event.lower()}" AFTER {event} ON "{name}" '
                                   f"BEGIN DELETE FROM content_digests WHERE table_name = '{name}'; END"))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in TABLES:
            op.execute(sa.text(f'DROP TRIGGER "{name}_content_changed" ON "{name}"'))
        op.execute(sa.text("DROP FUNCTION cnotrack_content_changed()"))
    else:
        for name in TABLES:
            for event in ("update", "delete"):
                op.execute(sa.text(f'DROP TRIGGER "{name}_content_{event}"'))
    op.drop_table('content_digests')
