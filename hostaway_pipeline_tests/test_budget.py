"""The budget's schedule arithmetic: how often each cadence is synced per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostaway_pipeline.accounts.budget import FULL, INCREMENTAL, Tick, syncs_per_day
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


def test_a_daily_entity_is_synced_once_a_day_by_the_full_run_and_not_again_before_it() -> None:
    # At most 10 minutes early: the 02:30 incremental, 23.5 h after the 03:00 full run, finds
    # it not due yet; without full runs, an incremental syncs it once a day.
    assert syncs_per_day(Cadence.WARM, _ticks(14, 30, 3), 7) == {FULL: 1.0, INCREMENTAL: 0.0}
    assert syncs_per_day(Cadence.WARM, _ticks(14, 30, None), 7) == {FULL: 0.0, INCREMENTAL: 1.0}


def test_a_weekly_entity_costs_a_full_sync_a_day_when_full_runs_are_daily() -> None:
    assert syncs_per_day(Cadence.REFERENCE, _ticks(14, 30, 3), 7) == {FULL: 1.0, INCREMENTAL: 0.0}
    weekly = syncs_per_day(Cadence.REFERENCE, _ticks(21, 30, None), 14)
    assert weekly == {FULL: 0.0, INCREMENTAL: 2 / 14}


def test_a_first_load_does_not_stand_for_the_daily_full_syncs_once_one_was_recorded() -> None:
    from hostaway_pipeline.accounts.budget import Cost, Limits, entity_budget
    from hostaway_pipeline.catalog import CATALOG

    costs = [
        Cost("reservation_finance_fields", FULL, 2000, START, initial=True),
        Cost("reservation_finance_fields", FULL, 300, START + timedelta(days=1)),
        Cost("reservation_finance_fields", INCREMENTAL, 4, START + timedelta(days=1)),
    ]
    ticks = {s.scope: _ticks(14, 30, 3) for s in CATALOG}
    budget = entity_budget(
        1, CATALOG, {"reservation_finance_fields"}, costs, Limits(15, 20, 10.0), ticks, 7
    )
    (row,) = budget.rows
    assert row.average == {FULL: 300.0, INCREMENTAL: 4.0}
    assert row.recorded == 2304 and row.projected == 300 + 47 * 4
    only_first = entity_budget(
        1, CATALOG, {"reservation_finance_fields"}, costs[:1], Limits(15, 20, 10.0), ticks, 7
    )
    assert only_first.rows[0].average[FULL] == 2000.0
