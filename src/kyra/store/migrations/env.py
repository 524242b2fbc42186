"""Alembic environment: always run with a connection handed in by `kyra.store.db`."""

from __future__ import annotations

from alembic import context

from kyra.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Kyra runs its migrations through kyra.store.db.migrate(), not the CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
