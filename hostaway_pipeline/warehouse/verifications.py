"""When each parent's children were last fetched whole: table `child_verifications`.

A full sync refetches a conversation's messages only when its change fields moved, it is new, or
its last verification is the oldest (the rolling re-verification slice, sync/reverify.py). This
table holds that time per (account, child stream, parent id): ids and times only, no guest data.
Written in the same transaction as the children it vouches for, so it never runs ahead of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hostaway_pipeline.catalog.spec import Incremental, StreamSpec
from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import child_verifications


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


@dataclass(frozen=True)
class Coverage:
    """A child entity's parents for one account: what re-reading every child costs (one request
    per live parent, more for paged children) and how long ago the stalest was read."""

    entity: str
    parents: int  # live parents
    never: int  # live parents whose children were never read whole
    oldest: datetime | None  # the oldest last read among the live parents read before


def coverage(engine: sa.Engine, account_id: int, specs: Iterable[StreamSpec]) -> list[Coverage]:
    """Coverage of each child entity among `specs` whose parents are re-read selectively."""
    from hostaway_pipeline.warehouse import schema

    out = []
    v = child_verifications
    with engine.connect() as conn:
        for spec in specs:
            if spec.parent is None or spec.incremental is not Incremental.CHANGED_PARENTS:
                continue
            p = schema.table(spec.parent.table)
            row = conn.execute(
                sa.select(sa.func.count(p.c.id), sa.func.count(v.c.parent_id),
                          sa.func.min(v.c.verified_at))
                .select_from(p.outerjoin(v, sa.and_(
                    v.c.account_id == p.c.account_id, v.c.stream == spec.name,
                    v.c.parent_id == p.c.id,
                )))
                .where(p.c.account_id == account_id, p.c.deleted_at.is_(None))
            ).one()  # fmt: skip
            oldest = row[2]
            if oldest is not None and oldest.tzinfo is None:  # SQLite keeps no zone: ours is UTC
                oldest = oldest.replace(tzinfo=UTC)
            out.append(Coverage(spec.name, row[0], row[0] - row[1], oldest))
    return out
