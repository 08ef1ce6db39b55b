"""audit filters: indexes for the audit trail's date and user filters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 07:00:00

- ``ix_audit_log_at`` on ``audit_log.at``: the audit page's date range (``from``/``to``) and its
  newest-first order are an index range scan instead of a scan of the whole trail;
- ``ix_audit_log_actor`` on ``lower(audit_log.actor)``: the user filter matches user names in
  any case (``cnotrack.audit.AuditFilter``) with an index.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_actor', 'audit_log', [sa.text('lower(actor)')])


def downgrade() -> None:
    op.drop_index('ix_audit_log_actor', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
