"""The webhook inbox: table `webhook_events` and its operations (no HTTP, no Dagster).

The receiver stores every accepted delivery here before it answers 2xx; `webhooks process` and
the sensor apply pending rows later. A row is one distinct event: `event_key` is the SHA-256 of
its canonical envelope (object, event, accountId, data), so a duplicate delivery of the same
update only bumps `deliveries`. Hostaway's unified webhooks carry no event id of their own.
`envelope` holds guest data (it is the raw event); nothing else here does. It is cleared when the
event is applied (its data then lives in the entity tables, where erasure and retention reach it),
and an account's events go with the account (`accounts remove`). Applied events are deleted
after HOSTAWAY_WEBHOOK_RETENTION_DAYS (30; `prune_applied`, run after each account's apply).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import JSONText, dialect_insert
from hostaway_pipeline.warehouse.schema import accounts, webhook_events


@dataclass(frozen=True)
class StoredEvent:
    """One pending event as `pending` returns it."""

    event_key: str
    account_id: int
    object: str
    event: str
    entity_id: int | None
    data: dict[str, Any]
    received_at: datetime
    deliveries: int


def account_known(conn: sa.Connection, account_id: int) -> bool:
    """Whether `account_id` is registered (active or not)."""
    query = sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
    return conn.execute(query).first() is not None


def store_event(
    conn: sa.Connection,
    event_key: str,
    account_id: int,
    object_: str,
    event: str,
    entity_id: int | None,
    envelope_json: str,
    now: datetime | None = None,
) -> bool:
    """Insert the event, or count one more delivery of it; True when it was new."""
    now = now or datetime.now(UTC)
    stmt = dialect_insert(conn, webhook_events)
    values = {
        "event_key": event_key,
        "account_id": account_id,
        "object": object_,
        "event": event,
        "entity_id": entity_id,
        "envelope": JSONText(envelope_json),
        "received_at": now,
        "last_received_at": now,
        "deliveries": 1,
    }
    result = conn.execute(
        stmt.values(values)
        .on_conflict_do_update(
            index_elements=[webhook_events.c.event_key],
            set_={
                "deliveries": webhook_events.c.deliveries + 1,
                "last_received_at": stmt.excluded.last_received_at,
            },
        )
        .returning(webhook_events.c.deliveries)
    )
    return bool(result.scalar_one() == 1)


def pending_accounts(conn: sa.Connection) -> dict[int, int]:
    """Accounts with pending events: {account_id: count}."""
    query = (
        sa.select(webhook_events.c.account_id, sa.func.count())
        .where(webhook_events.c.applied_at.is_(None))
        .group_by(webhook_events.c.account_id)
    )
    return {int(row[0]): int(row[1]) for row in conn.execute(query)}


def pending(conn: sa.Connection, account_id: int, limit: int = 500) -> list[StoredEvent]:
    """The account's oldest pending events, oldest first."""
    t = webhook_events
    query = (
        sa.select(t)
        .where(t.c.account_id == account_id, t.c.applied_at.is_(None))
        .order_by(t.c.received_at, t.c.event_key)
        .limit(limit)
    )
    out = []
    for row in conn.execute(query):
        envelope: Mapping[str, Any] = row.envelope
        data = envelope.get("data")
        out.append(
            StoredEvent(
                row.event_key,
                row.account_id,
                row.object,
                row.event,
                row.entity_id,
                dict(data) if isinstance(data, Mapping) else {},
                row.received_at,
                row.deliveries,
            )
        )
    return out


def mark_applied(
    conn: sa.Connection, event_key: str, outcome: str, now: datetime | None = None
) -> bool:
    """Mark one event applied (in the caller's transaction, with its writes); False if it already was."""
    t = webhook_events
    result = conn.execute(
        sa.update(t)
        .where(t.c.event_key == event_key, t.c.applied_at.is_(None))
        .values(applied_at=now or datetime.now(UTC), outcome=outcome, envelope=sa.null())
    )
    return bool(result.rowcount == 1)


def last_event_at(conn: sa.Connection, account_ids: Sequence[int]) -> dict[int, datetime]:
    """The time of each account's last received event (for `accounts list`)."""
    t = webhook_events
    query = (
        sa.select(t.c.account_id, sa.func.max(t.c.last_received_at))
        .where(t.c.account_id.in_(list(account_ids)))
        .group_by(t.c.account_id)
    )
    return {int(r[0]): r[1] for r in conn.execute(query) if r[1] is not None}


def prune_applied(conn: sa.Connection, account_id: int, before: datetime) -> int:
    """Delete the account's events applied before `before` (the retention); how many."""
    t = webhook_events
    result = conn.execute(
        sa.delete(t).where(
            t.c.account_id == account_id, t.c.applied_at.is_not(None), t.c.applied_at < before
        )
    )
    return int(result.rowcount or 0)
