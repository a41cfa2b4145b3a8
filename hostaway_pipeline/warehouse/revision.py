"""Generate the next migration from the catalog: Alembic autogenerate against a migrated warehouse.

    python -m hostaway_pipeline.warehouse.revision "add reviews" [--database-url URL]

Migrates the warehouse at URL (default HOSTAWAY_DATABASE_URL; PostgreSQL, so the schema `hostaway`
is rendered) to head without the catalog check, compares it with `schema.metadata` (derived from
`streams.CATALOG`) and writes `migrations/versions/NNNN_<slug>.py`, frozen history from then on.
Prints nothing to write and exits 0 when the definitions and the migrations already agree.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.autogenerate.api import AutogenContext
from alembic.runtime.migration import MigrationContext

from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline.warehouse.types import UTCDateTime

TEMPLATE = '''"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: {date}

Generated from the catalog by hostaway_pipeline.warehouse.revision; frozen history from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''


def compare_options(on_pg: bool) -> dict[str, Any]:
    return {
        "compare_type": True,
        "include_schemas": on_pg,
        "version_table_schema": schema.SCHEMA if on_pg else None,
        "include_name": lambda name, type_, _parent: (
            not on_pg or type_ != "schema" or name == schema.SCHEMA
        ),
    }


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def render(engine: sa.Engine, target: sa.MetaData | None = None) -> tuple[str, str] | None:
    """(upgrade, downgrade) bodies for what `target` has that the migrated warehouse lacks."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts=compare_options(conn.dialect.name == "postgresql")
        )
        script = produce_migrations(ctx, schema.metadata if target is None else target)
        if script.upgrade_ops is None or script.upgrade_ops.is_empty():
            return None
        up = render_python_code(script.upgrade_ops, render_item=_render_item, migration_context=ctx)
        assert script.downgrade_ops is not None
        down = render_python_code(
            script.downgrade_ops, render_item=_render_item, migration_context=ctx
        )
    return up, down


def write(message: str, bodies: tuple[str, str]) -> str:
    """Write the next numbered revision file; its path."""
    down = db.head_revision()
    rev = f"{int(down) + 1:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "catalog"
    path = db.MIGRATIONS_DIR / "versions" / f"{rev}_{slug}.py"
    text = TEMPLATE.format(
        message=message, rev=rev, down=down, date=datetime.now(UTC).date().isoformat(),
        upgrade=bodies[0].rstrip(), downgrade=bodies[1].rstrip(),
    )  # fmt: skip
    path.write_text(text)
    return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hostaway_pipeline.warehouse.revision")
    parser.add_argument("message")
    parser.add_argument("--database-url", default=os.environ.get("HOSTAWAY_DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set HOSTAWAY_DATABASE_URL (a scratch PostgreSQL)")
    engine = db.create_engine(args.database_url)
    try:
        db.upgrade(engine, verify=False)
        bodies = render(engine)
    finally:
        engine.dispose()
    if bodies is None:
        print("the migrations already match the catalog: nothing to write")
        return 0
    print(write(args.message, bodies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
