"""The warehouse goes away: down or unreachable at start, connections dropped mid-batch.

Decision (docs/RELIABILITY.md): the engine does not wait for the database. A warehouse that
cannot be reached fails the run at once with WarehouseUnavailableError (retryable, naming the
URL without its password and HOSTAWAY_DATABASE_URL) before anything is written; a connection
lost mid-run fails it the same way after whole pages only, with the watermark unmoved. Retrying
is the scheduler's job; the next run converges.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hostaway_pipeline.client.errors import HostawayError
from hostaway_pipeline.sync.engine import SyncMode
from hostaway_pipeline.warehouse import db
from hostaway_pipeline.warehouse.errors import WarehouseError, WarehouseUnavailableError
from hostaway_pipeline_tests.faults.mutations import Changes, mutate
from hostaway_pipeline_tests.faults.pgproxy import PgProxy
from hostaway_pipeline_tests.faults.support import (
    assert_converged,
    assert_invariants,
    rounds_until,
    sync_all,
    wire,
)
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(0)


def schema_exists(url: str) -> bool:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = 'hostaway'"))
    engine.dispose()
    return bool(found)


def test_a_warehouse_that_is_down_at_start_fails_typed_then_the_next_run_converges(
    empty_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    proxy = PgProxy(empty_pg_url)  # nothing listens yet: connection refused
    try:
        with pytest.raises(WarehouseUnavailableError) as raised:
            wire(proxy.url, secret_key, sandbox)
        message = str(raised.value)
        assert raised.value.retryable
        assert f"127.0.0.1:{proxy.port}" in message and "HOSTAWAY_DATABASE_URL" in message
        assert not schema_exists(empty_pg_url)  # nothing was written
        proxy.serve("forward")  # PostgreSQL "comes up"
        w = wire(proxy.url, secret_key, sandbox)
        account = sandbox.state.account_ids()[0]
        sync_all(w, sandbox, account, SyncMode.FULL)
        assert_converged(w.engine, sandbox, account)
        w.engine.dispose()
    finally:
        proxy.close()


def test_an_unreachable_warehouse_fails_within_the_connect_timeout_not_never(
    empty_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    proxy = PgProxy(empty_pg_url)
    proxy.serve("blackhole")  # accepts, never answers: a firewall dropping packets
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseUnavailableError):
            db.upgrade(db.create_engine(proxy.url + "?connect_timeout=2"))
        assert time.monotonic() - started < 15
        assert not schema_exists(empty_pg_url)
    finally:
        proxy.close()


@dataclass
class DropTally:
    runs: int = 0
    completed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    terminated_backends: int = 0
    examples: dict[str, str] = field(default_factory=dict)  # one message per kind of failure


def _terminator(url: str, app: str, stop: threading.Event, rng: random.Random,
                tally: DropTally) -> None:  # fmt: skip
    """Terminate the victim's backends (pg_terminate_backend) at random moments until `stop`."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    mean_gap = rng.choice([0.05, 0.3, 1.5])  # some runs are hit often, some rarely or never
    with admin.connect() as conn:
        while not stop.wait(rng.expovariate(1 / mean_gap)):
            states = ("active", "idle in transaction") if rng.random() < 0.7 else ("active", "idle", "idle in transaction")  # fmt: skip
            killed = conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :app AND state = ANY(:states)"
                ),
                {"app": app, "states": list(states)},
            )
            tally.terminated_backends += int(killed or 0)
    admin.dispose()


def drop_campaign(
    url: str,
    key: str,
    server: SandboxServer,
    rng: random.Random,
    rounds: int,
    tally: DropTally,
    until: Callable[[DropTally], bool] | None = None,
    max_rounds: int = 0,
) -> None:
    """Sync rounds while another connection terminates ours at random; then converge.

    With `until`, rounds go on past `rounds` (up to `max_rounds`) until the tally satisfies it:
    whether a random kill lands depends on how fast the machine runs the sync, so a test that
    needs some kills waits for them instead of hoping for them.
    """
    app = f"hostaway-faults-{uuid.uuid4().hex[:8]}"
    w = wire(url, key, server, connect_args={"application_name": app})
    account = server.state.account_ids()[0]
    changes = Changes()
    for _ in rounds_until(rounds, lambda: until is None or until(tally), max_rounds):
        mutate(server, account, rng, rng.randint(0, 4), changes)
        mode = rng.choice([SyncMode.FULL, SyncMode.INCREMENTAL])
        stop = threading.Event()
        killer = threading.Thread(target=_terminator, args=(url, app, stop, rng, tally))
        killer.start()
        tally.runs += 1
        try:
            sync_all(w, server, account, mode, LOOKBACK)
            tally.completed += 1
        except WarehouseError as exc:
            tally.failed[type(exc).__name__] += 1
            tally.examples.setdefault(str(exc).split(":")[1].split("(")[-1][:60], str(exc))
            assert isinstance(exc, WarehouseUnavailableError) and exc.retryable, exc
            assert exc.account_id == account and exc.stream and "run the sync again" in str(exc)
        except HostawayError as exc:  # a killed token-store connection can look like this
            pytest.fail(f"a dropped database connection surfaced as an API error: {exc!r}")
        finally:
            stop.set()
            killer.join()
        assert_invariants(w.engine, server, account, LOOKBACK)
    sync_all(w, server, account, SyncMode.INCREMENTAL, LOOKBACK)
    assert_converged(w.engine, server, account, ignore=changes.deleted_listings)
    sync_all(w, server, account, SyncMode.FULL, LOOKBACK)
    assert_converged(w.engine, server, account)
    w.engine.dispose()


def test_connections_terminated_mid_batch_fail_typed_and_the_next_run_converges(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, rng: random.Random
) -> None:
    tally = DropTally()

    def exercised(t: DropTally) -> bool:
        return t.terminated_backends >= 4 and sum(t.failed.values()) >= 1

    drop_campaign(
        fresh_pg_url, secret_key, sandbox, rng, rounds=8, tally=tally, until=exercised,
        max_rounds=60,
    )  # fmt: skip
    print(tally)
    assert exercised(tally), f"no run was hit often enough to test anything: {tally}"


def test_a_network_cut_mid_run_fails_typed_and_the_next_run_converges(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, rng: random.Random
) -> None:
    """The connection breaks below PostgreSQL (a proxy resets every socket mid-run)."""
    proxy = PgProxy(fresh_pg_url)
    proxy.serve("forward")
    try:
        w = wire(proxy.url, secret_key, sandbox)
        account = sandbox.state.account_ids()[0]
        cut_at = rng.randint(3, 30)
        seen = 0

        def cut(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
            nonlocal seen
            seen += 1
            if seen == cut_at:
                threading.Timer(rng.uniform(0, 0.05), proxy.cut).start()

        sandbox.hooks.before_response = cut
        try:
            sync_all(w, sandbox, account, SyncMode.FULL, LOOKBACK)
        except WarehouseUnavailableError as exc:
            assert exc.retryable and exc.account_id == account
        finally:
            sandbox.hooks.before_response = None
        assert_invariants(w.engine, sandbox, account, LOOKBACK)
        sync_all(w, sandbox, account, SyncMode.FULL, LOOKBACK)
        assert_converged(w.engine, sandbox, account)
        w.engine.dispose()
    finally:
        proxy.close()


@pytest.mark.soak
def test_soak_dropped_connections(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, rng: random.Random
) -> None:
    from hostaway_pipeline_tests.conftest import reset_pg_schema
    from hostaway_pipeline_tests.faults.soak import record, soak_deadline

    tally = DropTally()
    deadline = soak_deadline(share=0.1)
    campaigns = 0
    while time.monotonic() < deadline:
        reset_pg_schema(fresh_pg_url)
        drop_campaign(fresh_pg_url, secret_key, sandbox, rng, rounds=10, tally=tally)
        campaigns += 1
    record("dropped_connections", {"campaigns": campaigns, "runs": tally.runs,
                                   "completed": tally.completed, "failed": dict(tally.failed),
                                   "terminated_backends": tally.terminated_backends})  # fmt: skip
