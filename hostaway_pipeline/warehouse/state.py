"""Per-(account, stream) sync state, read and written inside the caller's transaction.

Saving the state in the same transaction as the last page's rows means the watermark can never
run ahead of the data: either both are committed or neither is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import sync_state


@dataclass(frozen=True)
class SyncState:
    """Where a stream of an account stands; all times aware UTC, None when never set."""

    account_id: int
    stream: str
    watermark: datetime | None = None
    last_mode: str | None = None  # e.g. "full" or "incremental", chosen by the sync engine
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_full_sync_at: datetime | None = None


def load_state(conn: sa.Connection, account_id: int, stream: str) -> SyncState:
    """The stored state, or an empty one (never synced)."""
    row = conn.execute(
        sa.select(sync_state).where(
            sync_state.c.account_id == account_id, sync_state.c.stream == stream
        )
    ).first()
    if row is None:
        return SyncState(account_id=account_id, stream=stream)
    return SyncState(**row._mapping)


def save_state(conn: sa.Connection, state: SyncState) -> None:
    """Insert or replace the state (commits with the caller's transaction)."""
    values = asdict(state)
    stmt = dialect_insert(conn, sync_state).values(values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[sync_state.c.account_id, sync_state.c.stream],
            set_={k: stmt.excluded[k] for k in values if k not in ("account_id", "stream")},
        )
    )


def load_states(conn: sa.Connection, account_id: int) -> list[SyncState]:
    """Every stream's state of an account (for status displays)."""
    rows = conn.execute(
        sa.select(sync_state)
        .where(sync_state.c.account_id == account_id)
        .order_by(sync_state.c.stream)
    )
    return [SyncState(**row._mapping) for row in rows]
