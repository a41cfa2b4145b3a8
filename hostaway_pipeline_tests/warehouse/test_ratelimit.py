"""Shared GCRA buckets: reservations are spaced by the interval, across processes."""

from __future__ import annotations

import multiprocessing
import time

import pytest
import sqlalchemy as sa

from hostaway_pipeline.warehouse.ratelimit import SqlRateLimitStore


def test_first_reservation_is_free_then_each_waits_one_more_interval(engine: sa.Engine) -> None:
    store = SqlRateLimitStore(engine)
    waits = [store.reserve("ip", 0.5) for _ in range(4)]
    assert waits[0] == pytest.approx(0.0, abs=0.05)
    for before, after in zip(waits, waits[1:], strict=False):
        assert after - before == pytest.approx(0.5, abs=0.05)


def test_buckets_are_independent_and_an_idle_bucket_does_not_bank_credit(engine: sa.Engine) -> None:
    store = SqlRateLimitStore(engine)
    store.reserve("account:1", 0.1)
    assert store.reserve("account:2", 0.1) == pytest.approx(0.0, abs=0.02)
    time.sleep(0.3)  # idle for three intervals: still only one free request (burst 1)
    assert store.reserve("account:1", 0.1) == pytest.approx(0.0, abs=0.02)
    assert store.reserve("account:1", 0.1) == pytest.approx(0.1, abs=0.02)


def test_a_negative_interval_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="interval_s"):
        SqlRateLimitStore(engine).reserve("ip", -1)


def test_three_processes_share_one_bucket(any_db_url: str, engine: sa.Engine) -> None:
    from hostaway_pipeline_tests.warehouse.workers import reserve_slots

    interval, per_process, procs_n = 0.1, 6, 3
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(procs_n), ctx.Queue()
    procs = [
        ctx.Process(
            target=reserve_slots, args=(any_db_url, "shared", interval, per_process, barrier, out)
        )
        for _ in range(procs_n)
    ]
    for p in procs:
        p.start()
    slots = sorted(out.get(timeout=60) for _ in range(procs_n * per_process))
    for p in procs:
        p.join(timeout=30)
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= interval - 0.02, gaps  # 0.02: the time of a round trip
    total = procs_n * per_process
    assert slots[-1] - slots[0] == pytest.approx((total - 1) * interval, abs=0.05)
