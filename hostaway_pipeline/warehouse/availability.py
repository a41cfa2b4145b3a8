"""Entities an account cannot use: table `entity_availability` (no HTTP, no Dagster).

One row per (account, entity) that Hostaway refuses to this account while its token works for
the core entities (a feature not enabled, a permission the API user lacks): the sync skips it
until a full sync retries it, and a successful sync of it deletes the row. `since` is when it
was first refused (kept across refusals), `checked_at` the latest refusal. `reason` is our own
message (status, endpoint, request id): never the response body, which may quote a guest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import entity_availability

MAX_REASON_CHARS = 1000


@dataclass(frozen=True)
class Unavailable:
    """An entity Hostaway refuses to one account, and since when."""

    account_id: int
    entity: str
    since: datetime
    checked_at: datetime
    status: int | None
    reason: str
    request_id: str | None


def mark_unavailable(
    engine: sa.Engine,
    account_id: int,
    entity: str,
    reason: str,
    status: int | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> Unavailable:
    """Record that `entity` is refused to the account (keeps the first refusal's `since`)."""
    now = now or datetime.now(UTC)
    values = {"checked_at": now, "status": status, "reason": reason[:MAX_REASON_CHARS],
              "request_id": request_id}  # fmt: skip
    t = entity_availability
    with engine.begin() as conn:
        stmt = dialect_insert(conn, t).values(account_id=account_id, entity=entity, since=now,
                                              **values)  # fmt: skip
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["account_id", "entity"], set_=values)
        )
        row = conn.execute(
            sa.select(t).where(t.c.account_id == account_id, t.c.entity == entity)
        ).one()
    return Unavailable(**row._mapping)


def mark_available(engine: sa.Engine, account_id: int, entity: str) -> bool:
    """Forget a refusal after the entity synced; True if one was recorded."""
    t = entity_availability
    with engine.begin() as conn:
        result = conn.execute(
            sa.delete(t).where(t.c.account_id == account_id, t.c.entity == entity)
        )
    return result.rowcount > 0


def unavailable(
    engine: sa.Engine, account_id: int | None = None
) -> dict[int, dict[str, Unavailable]]:
    """account -> entity -> its refusal, for one account or all."""
    t = entity_availability
    query = sa.select(t).order_by(t.c.account_id, t.c.entity)
    if account_id is not None:
        query = query.where(t.c.account_id == account_id)
    found: dict[int, dict[str, Unavailable]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            found.setdefault(row.account_id, {})[row.entity] = Unavailable(**row._mapping)
    return found
