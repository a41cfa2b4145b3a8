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
    age: timedelta | None
    failed: bool  # past the fail window (else only past the warn window)

    def describe(self) -> str:
        if self.age is None:
            return f"account {self.account_id}: {self.stream} never synced successfully"
        hours = self.age.total_seconds() / 3600
        return f"account {self.account_id}: {self.stream} last synced {hours:.1f} h ago"


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


def stale_accounts(
    engine: sa.Engine,
    stream: str,
    account_ids: Iterable[int],
    *,
    warn_after: timedelta,
    fail_after: timedelta,
    now: datetime | None = None,
) -> list[Stale]:
    """The accounts (of `account_ids`) whose last successful `stream` sync is older than `warn_after`."""
    now = now or datetime.now(UTC)
    last = last_successes(engine, stream)
    stale = []
    for account_id in sorted(account_ids):
        at = last.get(account_id)
        age = now - at if at is not None else None
        if age is None or age > warn_after:
            stale.append(Stale(account_id, stream, at, age, age is None or age > fail_after))
    return stale


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
