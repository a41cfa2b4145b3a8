"""When each parent's children were last fetched whole: table `child_verifications`.

A full sync refetches a conversation's messages only when its change fields moved, it is new, or
its last verification is the oldest (the rolling re-verification slice, sync/reverify.py). This
table holds that time per (account, child stream, parent id): ids and times only, no guest data.
Written in the same transaction as the children it vouches for, so it never runs ahead of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import TZ, metadata

child_verifications = sa.Table(
    "child_verifications",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("stream", sa.Text, primary_key=True),  # the child stream, e.g. "messages"
    sa.Column("parent_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("verified_at", TZ, nullable=False),
)


def load_verified(conn: sa.Connection, account_id: int, stream: str) -> dict[int, datetime]:
    """parent id -> when its children were last fetched whole (parents never fetched are absent)."""
    t = child_verifications
    rows = conn.execute(
        sa.select(t.c.parent_id, t.c.verified_at).where(
            t.c.account_id == account_id, t.c.stream == stream
        )
    )
    return {row.parent_id: row.verified_at for row in rows}


def mark_verified(
    conn: sa.Connection, account_id: int, stream: str, parent_ids: Iterable[int], at: datetime
) -> None:
    """Record that these parents' children were fetched whole at `at` (caller's transaction)."""
    values = [
        {"account_id": account_id, "stream": stream, "parent_id": pid, "verified_at": at}
        for pid in parent_ids
    ]
    if not values:
        return
    stmt = dialect_insert(conn, child_verifications).values(values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                child_verifications.c.account_id,
                child_verifications.c.stream,
                child_verifications.c.parent_id,
            ],
            set_={"verified_at": stmt.excluded.verified_at},
        )
    )
