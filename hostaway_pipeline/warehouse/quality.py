"""Queries behind the data-quality checks: live row counts and orphaned children."""

from __future__ import annotations

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema


def live_row_count(engine: sa.Engine, table: sa.Table, account_id: int) -> int:
    """Rows of the account that are not soft-deleted."""
    query = sa.select(sa.func.count()).where(
        table.c.account_id == account_id, table.c.deleted_at.is_(None)
    )
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def orphan_messages(engine: sa.Engine, account_id: int) -> int:
    """Live messages whose conversation is missing or soft-deleted."""
    messages, conversations = schema.table("messages"), schema.table("conversations")
    live_parent = (
        sa.select(conversations.c.id)
        .where(
            conversations.c.account_id == account_id,
            conversations.c.id == messages.c.conversation_id,
            conversations.c.deleted_at.is_(None),
        )
        .exists()
    )
    query = sa.select(sa.func.count()).where(
        messages.c.account_id == account_id, messages.c.deleted_at.is_(None), ~live_parent
    )
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)
