"""Registering new accounts' webhooks from the account sensor (no Dagster here).

With HOSTAWAY_WEBHOOK_URL set, every active account without a registration at that URL gets one
(`registration.register_account`, idempotent: re-running it on an account already registered is
a no-op beyond one list request), and so does an account still registered with the deprecated
shared pair (no key id yet): that is the migration to per-account credentials. The outcome is recorded in `webhook_registrations`; a failure is
retried on a later tick after a backoff (1 min, doubling, at most 1 h), at most
MAX_PER_TICK accounts per tick, so a slow or failing Hostaway delays a tick by little and
never the account's first sync (its run request is made whatever happens here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountInfo
from hostaway_pipeline.client.client import HostawayClient
from hostaway_pipeline.webhooks import registration as reg
from hostaway_pipeline.webhooks.config import RegistrationTarget
from hostaway_pipeline.webhooks.store import registrations as state

MAX_PER_TICK = 5
FIRST_RETRY_S, MAX_RETRY_S = 60.0, 3600.0


def retry_after(attempts: int) -> timedelta:
    """How long after the `attempts`-th failure the next attempt is due."""
    return timedelta(seconds=min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1)))


def due_accounts(
    engine: sa.Engine, accounts: Iterable[AccountInfo], url: str, now: datetime
) -> list[int]:
    """Active accounts whose webhook at `url` is not registered and whose retry is due."""
    known = state.registrations(engine)
    due = []
    for info in sorted(accounts, key=lambda a: a.account_id):
        if not info.active or info.credentials_rejected:
            continue
        rec = known.get(info.account_id)
        if rec is not None and rec.url == url:
            if rec.state == state.REGISTERED and rec.key_id is not None:
                continue
            if now < rec.updated_at + retry_after(rec.attempts):
                continue
        due.append(info.account_id)
    return due


def register_due(
    engine: sa.Engine,
    accounts: Iterable[AccountInfo],
    target: RegistrationTarget,
    client_for: Callable[[int], HostawayClient],
    now: datetime | None = None,
) -> list[str]:
    """Register the due accounts (at most MAX_PER_TICK); one log line per account tried."""
    now = now or datetime.now(UTC)
    lines = []
    for aid in due_accounts(engine, accounts, target.url, now)[:MAX_PER_TICK]:
        try:
            with client_for(aid) as client:
                hook, action = reg.register_account(
                    engine, client, target.url, target.secret, rekey=False, now=now
                )
        except Exception as exc:  # logged and retried later: never fails the sensor
            attempts = state.record_failed(engine, aid, target.url, str(exc), now=now)
            wait = retry_after(attempts).total_seconds()
            lines.append(
                f"account {aid}: webhook registration failed (attempt {attempts}; retried in "
                f"{wait:.0f} s or later): {type(exc).__name__}: {exc}"
            )
            continue
        lines.append(f"account {aid}: webhook {hook.id} registered at {hook.url} ({action})")
    return lines
