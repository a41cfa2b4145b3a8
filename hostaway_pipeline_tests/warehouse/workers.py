"""Functions run in child processes (spawned, so they must be importable module attributes)."""

from __future__ import annotations

import time
from typing import Any

from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.warehouse import db


def upgrade_at_once(url: str, barrier: Any, results: Any) -> None:
    """Wait for the other upgraders, then all upgrade together; report the revision or the error."""
    engine = db.create_engine(url)
    barrier.wait()
    try:
        db.upgrade(engine)
        results.put(db.current_revision(engine))
    except Exception as exc:
        results.put(f"error: {exc!r}")
    finally:
        engine.dispose()


def hold_issue_lock(url: str, key: str, account_id: int, release: Any, events: Any) -> None:
    """Take the account's issue lock and hold it until `release` is set; report when."""
    store = SqlTokenStore(db.create_engine(url), SecretBox(key))
    with store.issue_lock("https://api.hostaway.com", account_id):
        events.put(("acquired", "holder", time.time()))
        release.wait(60)
        events.put(("released", "holder", time.time()))


def take_issue_lock(url: str, key: str, account_id: int, events: Any) -> None:
    """Take the account's issue lock as soon as possible and report when it was granted."""
    store = SqlTokenStore(db.create_engine(url), SecretBox(key))
    events.put(("asking", "waiter", time.time()))
    with store.issue_lock("https://api.hostaway.com", account_id):
        events.put(("acquired", "waiter", time.time()))


def reserve_slots(
    url: str, bucket: str, interval_s: float, count: int, barrier: Any, out: Any
) -> None:
    """Reserve `count` slots of `bucket` back to back; report (before, after, wait) of each call.

    The store reads its clock somewhere between `before` and `after`: the slot starts within
    [before + wait, after + wait].
    """
    store = SqlRateLimitStore(db.create_engine(url))
    barrier.wait()
    for _ in range(count):
        before = time.time()
        wait = store.reserve(bucket, interval_s)
        out.put((before, time.time(), wait))
        time.sleep(wait)
