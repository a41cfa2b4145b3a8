"""Webhook registration state per account: table `webhook_registrations` (no HTTP, no Dagster).

One row per account whose unified webhook was registered (or whose registration failed) by
`webhooks register` or the account sensor; no row means none is known. `last_error` holds our
own error message (never a secret: the client's messages name the account, endpoint and request
id only). `accounts list` reads this table and the newest `webhook_events` receipt.
`key_id` is what the account's webhook password is derived from (webhooks/credentials.py; not a
secret), `pending_key_id` the one a registration in flight is installing: the receiver accepts
both until the registration succeeds, then only the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import (
    accounts,
    webhook_events,
    webhook_registrations,
)

REGISTERED, FAILED, PENDING = "registered", "failed", "pending"
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class Registration:
    account_id: int
    state: str
    webhook_id: int | None
    url: str
    attempts: int
    last_error: str | None
    updated_at: datetime
    key_id: str | None = None
    pending_key_id: str | None = None
    keyed_at: datetime | None = None


def _upsert(engine: sa.Engine, account_id: int, **values: object) -> None:
    with engine.begin() as conn:
        stmt = dialect_insert(conn, webhook_registrations).values(account_id=account_id, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["account_id"], set_=values))


def begin_keying(engine: sa.Engine, account_id: int, url: str, key_id: str) -> None:
    """A registration is about to install the credential of `key_id` (accepted from now on)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        stmt = dialect_insert(conn, webhook_registrations).values(
            account_id=account_id, state=PENDING, url=url, attempts=0, updated_at=now,
            pending_key_id=key_id,
        )  # fmt: skip
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id"], set_={"pending_key_id": key_id}
            )
        )


def record_registered(
    engine: sa.Engine,
    account_id: int,
    webhook_id: int,
    url: str,
    now: datetime | None = None,
    key_id: str | None = None,
) -> None:
    """The account's webhook `webhook_id` delivers to `url` (with the credential of `key_id`,
    which becomes the only one accepted)."""
    now = now or datetime.now(UTC)
    keys = {} if key_id is None else {"key_id": key_id, "pending_key_id": None, "keyed_at": now}
    _upsert(engine, account_id, state=REGISTERED, webhook_id=webhook_id, url=url, attempts=0,
            last_error=None, updated_at=now, **keys)  # fmt: skip


def record_failed(
    engine: sa.Engine, account_id: int, url: str, error: str, now: datetime | None = None
) -> int:
    """A failed registration attempt for `url`; returns the failed attempts so far."""
    with engine.begin() as conn:
        found = conn.execute(
            sa.select(webhook_registrations.c.attempts, webhook_registrations.c.state).where(
                webhook_registrations.c.account_id == account_id
            )
        ).first()
    attempts = (found.attempts if found is not None and found.state == FAILED else 0) + 1
    _upsert(engine, account_id, state=FAILED, webhook_id=None, url=url, attempts=attempts,
            last_error=error[:MAX_ERROR_CHARS], updated_at=now or datetime.now(UTC))  # fmt: skip
    return attempts


def forget(engine: sa.Engine, account_id: int) -> None:
    """No webhook is registered for the account any more."""
    with engine.begin() as conn:
        conn.execute(
            sa.delete(webhook_registrations).where(webhook_registrations.c.account_id == account_id)
        )


def accepted_keys(conn: sa.Connection, account_id: int) -> tuple[str | None, str | None] | None:
    """(current, pending) key ids of an active account's webhook credential (either None when
    there is none); None when the account is unknown or disabled. Both are accepted."""
    t = webhook_registrations
    row = conn.execute(
        sa.select(accounts.c.active, t.c.key_id, t.c.pending_key_id)
        .select_from(accounts.outerjoin(t, t.c.account_id == accounts.c.account_id))
        .where(accounts.c.account_id == account_id)
    ).first()
    if row is None or not row.active:
        return None
    return row.key_id, row.pending_key_id


def registrations(engine: sa.Engine) -> dict[int, Registration]:
    """Every account's recorded registration."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(webhook_registrations)).all()
    return {r.account_id: Registration(**r._mapping) for r in rows}


def last_event_at(engine: sa.Engine) -> dict[int, datetime]:
    """Each account's newest webhook delivery received (any event, applied or not)."""
    t = webhook_events
    query = sa.select(t.c.account_id, sa.func.max(t.c.last_received_at)).group_by(t.c.account_id)
    with engine.connect() as conn:
        return {aid: at for aid, at in conn.execute(query).all() if at is not None}
