"""Sync state: saved inside the caller's transaction, so it commits or rolls back with the data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.state import SyncState, load_state, load_states, save_state
from hostaway_pipeline.warehouse.writes import upsert_rows

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_a_stream_never_synced_has_an_empty_state(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert load_state(conn, 1, "reservations") == SyncState(1, "reservations")


def test_save_then_load_and_replace(engine: sa.Engine) -> None:
    state = SyncState(1, "reservations", T0, "full", T0, T0 + timedelta(minutes=1), T0)
    with engine.begin() as conn:
        save_state(conn, state)
        save_state(conn, SyncState(1, "listings", watermark=None, last_mode="full"))
        save_state(conn, SyncState(2, "reservations", watermark=T0))
    later = replace(state, watermark=T0 + timedelta(hours=1), last_mode="incremental")
    with engine.begin() as conn:
        save_state(conn, later)
    with engine.connect() as conn:
        assert load_state(conn, 1, "reservations") == later
        assert [s.stream for s in load_states(conn, 1)] == ["listings", "reservations"]
        assert load_state(conn, 1, "reservations").watermark.tzinfo == UTC  # type: ignore[union-attr]


def test_state_saved_in_a_rolled_back_transaction_is_not_persisted(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        save_state(conn, SyncState(1, "reservations", watermark=T0))
    with engine.connect() as conn:
        upsert_rows(conn, schema.reservations, 1, [{"id": 1, "payload": {"id": 1}}])
        save_state(conn, SyncState(1, "reservations", watermark=T0 + timedelta(days=1)))
        conn.rollback()
    with engine.connect() as conn:
        assert load_state(conn, 1, "reservations").watermark == T0
        assert conn.scalar(sa.select(sa.func.count()).select_from(schema.reservations)) == 0
