"""Placing accounts on egresses: pinned ones stay, the rest balanced by projected cost, and
runs carry the egress's queue tag only when egress workers report in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.egress import store
from hostaway_pipeline.egress.placement import place
from hostaway_pipeline.egress.routing import QUEUE_TAG, egress_tags
from hostaway_pipeline.warehouse import db


def test_costs_are_balanced_longest_first_and_pins_hold() -> None:
    costs = {1: 9000.0, 2: 5000.0, 3: 4000.0, 4: 3000.0, 5: 2000.0}
    placed = place([1, 2, 3, 4, 5], ["a", "b"], costs)
    assert placed.egress_of == {1: "a", 2: "b", 3: "b", 4: "a", 5: "b"}
    assert placed.load == {"a": 12000.0, "b": 11000.0}
    assert placed.over(11500.0) == ["a"] and placed.over(12000.0) == []
    pinned = place([1, 2, 3, 4, 5], ["a", "b"], costs, pinned={1: "b", 2: "b"})
    assert pinned.accounts_on("b") == [1, 2] and pinned.accounts_on("a") == [3, 4, 5]
    assert pinned.pinned == {1, 2}
    # A pin to an egress with no live worker is kept (the launcher reroutes its runs).
    assert place([1], ["a"], {}, pinned={1: "gone"}).egress_of == {1: "gone"}


def test_an_account_with_no_recorded_cost_counts_as_the_mean() -> None:
    placed = place([1, 2, 3], ["a", "b"], {1: 100.0, 2: 300.0})
    assert placed.estimated == {3}
    assert placed.load == {"a": 300.0, "b": 300.0}  # 3 weighs the mean, 200
    equal = place([1, 2, 3, 4], ["a", "b"], {})
    assert [len(equal.accounts_on(e)) for e in ("a", "b")] == [2, 2]


def test_runs_are_routed_only_while_egress_workers_report(fresh_pg_url: str) -> None:
    engine: sa.Engine = db.create_engine(fresh_pg_url)
    try:
        db.upgrade(engine)
        repo = AccountRepo(engine, SecretBox(Fernet.generate_key().decode()))
        for account_id in (11, 12, 13):
            repo.add(account_id, "secret")
        assert egress_tags(engine, repo.list_accounts()) == {}  # one machine: no tag at all
        now = datetime.now(UTC)
        store.record(engine, "w1", "10.0.0.2", "host-1", now)
        store.record(engine, "w2", "10.0.0.3", "host-2", now)
        store.record(engine, "old", "10.0.0.4", "host-3", now - store.LIVE_FOR - timedelta(1))
        store.save_costs(engine, {11: 500.0, 12: 400.0, 13: 100.0})
        repo.set_egress(13, "w1")
        routes = egress_tags(engine, repo.list_accounts())
        assert routes == {
            11: {QUEUE_TAG: "egress-w2"},  # w1 already carries the pinned 13
            12: {QUEUE_TAG: "egress-w1"},
            13: {QUEUE_TAG: "egress-w1"},
        }
        assert store.load_costs(engine) == {11: 500.0, 12: 400.0, 13: 100.0}
    finally:
        engine.dispose()
