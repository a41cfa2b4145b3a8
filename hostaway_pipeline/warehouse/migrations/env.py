"""Alembic environment: runs on the connection that `db.upgrade` hands over (online only).

On PostgreSQL the tables and `alembic_version` live in schema `hostaway` (created here if missing);
on SQLite the engine's schema_translate_map drops the schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

SCHEMA = "hostaway"


def run_migrations_online() -> None:
    """Run the migrations on `config.attributes["connection"]` (the caller commits)."""
    connection: sa.Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations with hostaway_pipeline.warehouse.db.upgrade(engine), "
            "which passes its connection to alembic"
        )
    on_pg = connection.dialect.name == "postgresql"
    # Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
    if on_pg and SCHEMA not in sa.inspect(connection).get_schema_names():
        connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table_schema=SCHEMA if on_pg else None,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")
run_migrations_online()
