"""Alembic environment: cnotrack runs migrations on a connection it opened itself."""

from alembic import context

from cnotrack.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("cnotrack migrations run through cnotrack.store.open_store()")

context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
