"""account lifecycle (idle sessions, case-insensitive usernames, audit of sign-ins)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:40:00

- ``users``: ``deleted_at`` (a deleted user keeps their row and name) and ``username_key``,
  ``lower(username)``, unique; refused, changing nothing, when two existing names differ only in case.
- ``sessions``: ``last_seen_at`` for the idle timeout. Upgrading ends every session (users log
  in again): a session of before had no record of its last request.
- ``audit_log``: ``kind`` ('record' or 'security') and ``record_id`` nullable, for sign-ins,
  user changes and report downloads.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _refuse_case_collisions() -> None:
    users = sa.table("users", sa.column("username"))
    lowered = sa.func.lower(users.c.username)
    clashes = op.get_bind().execute(
        sa.select(lowered, sa.func.count()).group_by(lowered).having(sa.func.count() > 1)).all()
    if clashes:
        from cnotrack.errors import StoreError

        names = op.get_bind().execute(sa.select(users.c.username).where(lowered.in_([c[0] for c in clashes]))
                                      .order_by(users.c.username)).scalars().all()
        raise StoreError(
            "usernames are now case-insensitive, but these users differ only in case: "
            f"{', '.join(names)}; nothing was changed. Rename or remove all but one of each with an "
            "earlier cnotrack (or in the database's users table), then open the database again")


def upgrade() -> None:
    _refuse_case_collisions()
    sqlite = op.get_bind().dialect.name == 'sqlite'
    recreate = 'always' if sqlite else 'auto'  # SQLite alters no column to NOT NULL in place
    op.execute(sa.text("DELETE FROM sessions"))  # before users is rebuilt: sessions refer to it
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=200), nullable=True,
                                      comment='lower(username): usernames are case-insensitive, every lookup '
                                              'uses this'))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True,
                                      comment='deleted users keep their row (and name) so that the audit trail '
                                              'stays unambiguous'))
    op.execute(sa.text("UPDATE users SET username_key = lower(username)"))
    with op.batch_alter_table('users', schema=None, recreate=recreate) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_username_key'), ['username_key'])

    with op.batch_alter_table('sessions', schema=None, recreate=recreate) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False,
                                      comment='the last request (updated at most once a minute), for the idle '
                                              'timeout'))

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='record', nullable=False,
                                      comment='record: a change of a record; security: a sign-in, user change '
                                              'or report download'))
        batch_op.alter_column('action', existing_type=sa.String(length=20), existing_nullable=False,
                              comment='insert, update, delete, restore; for security events see cnotrack.users',
                              existing_comment='insert, update, delete, restore')
        batch_op.alter_column('record_id', existing_type=sa.Integer(), nullable=True,
                              comment='null only for a security event without a user')
        batch_op.create_index('ix_audit_log_kind', ['kind'], unique=False)


def downgrade() -> None:
    audit_log = sa.table("audit_log", sa.column("kind"))
    op.execute(audit_log.delete().where(audit_log.c.kind != "record"))  # the old schema cannot hold them
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_kind')
        batch_op.alter_column('record_id', existing_type=sa.Integer(), nullable=False, comment=None,
                              existing_comment='null only for a security event without a user')
        batch_op.alter_column('action', existing_type=sa.String(length=20), existing_nullable=False,
                              comment='insert, update, delete, restore',
                              existing_comment='insert, update, delete, restore; for security events see '
                                               'cnotrack.users')
        batch_op.drop_column('kind')

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_username_key'), type_='unique')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('username_key')
