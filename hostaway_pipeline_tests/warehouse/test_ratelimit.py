"""Shared GCRA buckets: reservations are spaced by the interval, across processes."""

from __future__ import annotations

import itertools
import time

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.support import processes


def timed(store: SqlRateLimitStore, bucket: str, interval: float) -> tuple[float, float, float]:
    """(before, after, wait) of one reservation: its slot starts in [before, after] + wait."""
    before = time.time()
    wait = store.reserve(bucket, interval)
    return before, time.time(), wait


def test_first_reservation_is_free_then_each_waits_one_more_interval(engine: sa.Engine) -> None:
    store = SqlRateLimitStore(engine)
    calls = [timed(store, "ip", 0.5) for _ in range(4)]
    first_before, first_after, first_wait = calls[0]
    assert first_wait == 0.0
    for i, (before, after, wait) in enumerate(calls):
        # slot i starts i intervals after slot 0, whatever time passed between the calls
        assert before + wait - 0.001 <= first_after + i * 0.5
        assert after + wait + 0.001 >= first_before + i * 0.5


def test_buckets_are_independent_and_an_idle_bucket_does_not_bank_credit(engine: sa.Engine) -> None:
    store = SqlRateLimitStore(engine)
    store.reserve("account:1", 0.1)
    assert store.reserve("account:2", 0.1) == 0.0
    time.sleep(0.3)  # idle for three intervals: still only one free request (burst 1)
    assert store.reserve("account:1", 0.1) == 0.0
    before, after, wait = timed(store, "account:1", 0.1)
    assert 0.1 - (after - before) - 0.05 <= wait <= 0.1


def test_a_negative_interval_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="interval_s"):
        SqlRateLimitStore(engine).reserve("ip", -1)


def test_three_processes_share_one_bucket(any_db_url: str, engine: sa.Engine) -> None:
    from hostaway_pipeline_tests.warehouse.workers import reserve_slots

    interval, per_process, procs_n = 0.1, 6, 3
    ctx = processes.context()
    barrier, out = ctx.Barrier(procs_n), ctx.Queue()
    procs = [
        ctx.Process(
            target=reserve_slots, args=(any_db_url, "shared", interval, per_process, barrier, out)
        )
        for _ in range(procs_n)
    ]
    for p in procs:
        p.start()
    calls = [out.get(timeout=waits.PROCESS_S) for _ in range(procs_n * per_process)]
    for p in procs:
        p.join(timeout=waits.PROCESS_S)
    # Each slot is known to within its call's round trip; compare midpoints, allowing for that.
    slots = sorted(
        ((before + after) / 2 + wait, (after - before) / 2) for before, after, wait in calls
    )
    for (a, err_a), (b, err_b) in itertools.pairwise(slots):
        assert b - a >= interval - err_a - err_b - 0.001, (a, b, err_a, err_b)
    span, err = slots[-1][0] - slots[0][0], slots[0][1] + slots[-1][1]
    assert span >= (len(slots) - 1) * interval - err - 0.001
    assert span <= (len(slots) - 1) * interval + err + 0.1  # no idle gaps: the bucket stays busy
