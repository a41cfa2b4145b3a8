"""The budget's schedule arithmetic: how often each cadence is synced per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostaway_pipeline.budget import FULL, INCREMENTAL, Tick, syncs_per_day
from hostaway_pipeline.catalog import Cadence

START = datetime(2026, 1, 5, tzinfo=UTC)


def _ticks(days: int, every_min: int, full_hour: int | None) -> list[Tick]:
    out: list[Tick] = []
    for k in range(days * 24 * 60 // every_min):
        out.append((START + timedelta(minutes=k * every_min), INCREMENTAL))
    if full_hour is not None:
        out += [(START + timedelta(days=d, hours=full_hour), FULL) for d in range(days)]
    return out


def test_hot_entities_ride_every_incremental_tick_the_full_run_does_not_cover() -> None:
    assert syncs_per_day(Cadence.HOT, _ticks(14, 30, 3), 7) == {FULL: 1.0, INCREMENTAL: 47.0}


def test_a_daily_entity_is_synced_again_by_the_incremental_before_the_next_full_run() -> None:
    # 5 % early: 22.8 h after the 03:00 full run, the 02:00 incremental finds it due.
    assert syncs_per_day(Cadence.WARM, _ticks(14, 30, 3), 7) == {FULL: 1.0, INCREMENTAL: 1.0}
    assert syncs_per_day(Cadence.WARM, _ticks(14, 30, None), 7) == {FULL: 0.0, INCREMENTAL: 1.0}


def test_a_weekly_entity_costs_a_full_sync_a_day_when_full_runs_are_daily() -> None:
    assert syncs_per_day(Cadence.REFERENCE, _ticks(14, 30, 3), 7) == {FULL: 1.0, INCREMENTAL: 0.0}
    weekly = syncs_per_day(Cadence.REFERENCE, _ticks(21, 30, None), 14)
    assert weekly == {FULL: 0.0, INCREMENTAL: 2 / 14}
