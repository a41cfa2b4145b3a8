"""Per-account freshness: how long ago each account's streams last synced successfully.

A stream's `sync_state.last_finished_at` is written only in the final transaction of a sync that
succeeded, so it is the account's last successful sync of that stream. No Dagster here: the
asset check and the failure sensor both ask this module.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.warehouse.schema import sync_state


@dataclass(frozen=True)
class Stale:
    """An account whose stream has not synced successfully within the policy's window."""

    account_id: int
    stream: str
    last_success: datetime | None  # None: never synced successfully
    age: timedelta | None  # since the last success; never synced: since registration, if known
    failed: bool  # past the fail window (else only past the warn window)

    def describe(self) -> str:
        name = f"account {self.account_id}: {self.stream}"
        hours = None if self.age is None else f"{self.age.total_seconds() / 3600:.1f} h"
        if self.last_success is None:
            since = f" (registered {hours} ago)" if hours else ""
            return f"{name} never synced successfully{since}"
        return f"{name} last synced {hours} ago"


@dataclass(frozen=True)
class Freshness:
    """One stream's accounts that are behind, and those still within their first sync's grace."""

    stale: list[Stale]
    # Never synced, registered within the warn window and no sync of theirs has failed yet.
    awaiting_first_sync: list[int]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def last_successes(engine: sa.Engine, stream: str) -> dict[int, datetime]:
    """Account -> end of its last successful sync of `stream`."""
    query = sa.select(sync_state.c.account_id, sync_state.c.last_finished_at).where(
        sync_state.c.stream == stream, sync_state.c.last_finished_at.is_not(None)
    )
    with engine.connect() as conn:
        return {int(row.account_id): _aware(row.last_finished_at) for row in conn.execute(query)}  # type: ignore[misc]


def freshness(
    engine: sa.Engine,
    stream: str,
    account_ids: Iterable[int],
    *,
    warn_after: timedelta,
    fail_after: timedelta,
    now: datetime | None = None,
    pending_since: Mapping[int, datetime] | None = None,
) -> Freshness:
    """The accounts (of `account_ids`) whose last successful `stream` sync is older than
    `warn_after`. One that never synced is past both windows, unless it is in `pending_since`
    (account -> registered at; only accounts whose sync has not failed): then it is as old as its
    registration, so a new account is not behind before its first sync has had that time."""
    now = now or datetime.now(UTC)
    last = last_successes(engine, stream)
    pending = pending_since or {}
    stale, waiting = [], []
    for account_id in sorted(account_ids):
        at = last.get(account_id)
        age = now - at if at is not None else None
        if at is None and account_id in pending:
            age = now - _aware(pending[account_id])  # type: ignore[operator]
            if age <= warn_after:
                waiting.append(account_id)
                continue
            stale.append(Stale(account_id, stream, None, age, age > fail_after))
        elif age is None or age > warn_after:
            stale.append(Stale(account_id, stream, at, age, age is None or age > fail_after))
    return Freshness(stale, waiting)


def fully_synced_at(
    engine: sa.Engine,
    streams: Iterable[str],
    synced_by: Mapping[int, Collection[str]] | None = None,
) -> dict[int, datetime]:
    """Account -> start of its oldest last full sync over `streams`; only accounts with all of them.

    A full sync of every stream that started after an event (registration, a new secret) has
    answered it, whoever ran it: the daemon, the UI or `hostaway-pipeline sync`. `synced_by`:
    the streams each account actually syncs (its selection, less what Hostaway refuses it), when
    that is not all of `streams`.
    """
    names = set(streams)
    query = sa.select(
        sync_state.c.account_id, sync_state.c.stream, sync_state.c.last_full_sync_at
    ).where(sync_state.c.stream.in_(names), sync_state.c.last_full_sync_at.is_not(None))
    seen: dict[int, dict[str, datetime]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            seen.setdefault(int(row.account_id), {})[row.stream] = _aware(row.last_full_sync_at)  # type: ignore[assignment]
    found = {}
    for account, by in seen.items():
        need = (
            names
            if synced_by is None or account not in synced_by
            else names & set(synced_by[account])
        )
        if need and need <= set(by):
            found[account] = min(by[n] for n in need)
    return found


def last_finished(engine: sa.Engine) -> dict[tuple[int, str], datetime]:
    """(account, stream) -> end of its last successful sync, for every account in one query."""
    query = sa.select(
        sync_state.c.account_id, sync_state.c.stream, sync_state.c.last_finished_at
    ).where(sync_state.c.last_finished_at.is_not(None))
    with engine.connect() as conn:
        return {
            (int(row.account_id), row.stream): _aware(row.last_finished_at)  # type: ignore[misc]
            for row in conn.execute(query)
        }
