"""the state of the clinical data (one row, raised by every write)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:10:00

- ``data_state``: one row (``id`` 1) with a random ``store_id`` and a ``generation`` that every
  write of clinical data raises in its own transaction (``cnotrack.store.state``), so that a
  cache of an evaluation knows with one query whether the data changed.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from cnotrack.store.state import initial_state

    table = op.create_table(
        'data_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False, comment='always 1: one row'),
        sa.Column('store_id', sa.String(length=32), nullable=False,
                  comment='random, set when the row is made: a database made again gets another'),
        sa.Column('generation', sa.BigInteger(), nullable=False,
                  comment='raised in the transaction of every write of clinical data (cnotrack.store.state)'),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_state')),
    )
    op.bulk_insert(table, [initial_state()])


def downgrade() -> None:
    op.drop_table('data_state')
