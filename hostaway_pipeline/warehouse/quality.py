"""Queries behind the data-quality checks: live row counts and orphaned children."""

from __future__ import annotations

import sqlalchemy as sa


def live_row_count(engine: sa.Engine, table: sa.Table, account_id: int) -> int:
    """Rows of the account that are not soft-deleted."""
    query = sa.select(sa.func.count()).where(
        table.c.account_id == account_id, table.c.deleted_at.is_(None)
    )
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def orphan_children(
    engine: sa.Engine, child: sa.Table, parent: sa.Table, parent_key: str, account_id: int
) -> int:
    """Live rows of `child` whose parent (by `parent_key`) is missing or soft-deleted."""
    live_parent = (
        sa.select(parent.c.id)
        .where(
            parent.c.account_id == account_id,
            parent.c.id == child.c[parent_key],
            parent.c.deleted_at.is_(None),
        )
        .exists()
    )
    query = sa.select(sa.func.count()).where(
        child.c.account_id == account_id, child.c.deleted_at.is_(None), ~live_parent
    )
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)
