"""dataset-level facts (the synthetic marker travels with the data)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:40:00

- ``patients.synthetic`` (boolean, nullable): yes for an invented patient (the demo cohort,
  ``cnotrack synth``), so that every output made from the data says it is synthetic, however
  the data travelled (exported, imported again, read back from the database). Existing
  patients get no value: they are not marked synthetic.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('synthetic', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('synthetic')
