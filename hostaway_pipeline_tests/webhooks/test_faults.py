"""Receiver faults end to end over real HTTP with the real PostgreSQL: nothing is lost.

- A receiver process SIGKILLed while it is inside a request (it is waiting on the warehouse):
  Hostaway got no answer, retries on its schedule, and a replica behind the same address stores it.
- The warehouse down for (Hostaway's) minute and more: the receiver answers 503 to the first
  attempt and to the one-minute retry, then the warehouse is back and a later retry is stored.
Hostaway's retry schedule (1 min, 10 min, 50 min) runs at TIME_SCALE, so each test takes seconds;
every wait is on a condition (a log line, a proxy connection, a delivery log entry).
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from hostaway_pipeline.warehouse import db
from hostaway_pipeline.webhooks.apply import process_account
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.e2e.processes import Service, wait_for
from hostaway_pipeline_tests.faults.pgproxy import PgProxy
from hostaway_pipeline_tests.support.webhooks import register as _register
from hostaway_pipeline_tests.support.webhooks import stored as _stored
from hostaway_pipeline_tests.support.webhooks import theirs as _theirs
from hostaway_pipeline_tests.support.wiring import Wired, wire
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, SECRET
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.webhooks import RETRY_SCHEDULE_S, DeliveryOptions

TIME_SCALE = 0.005  # Hostaway's 1 min / 10 min / 50 min retries: 0.3 s / 3 s / 15 s
HOOK = "/webhooks/hostaway"


def _mutate(sandbox: SandboxServer, account: int) -> tuple[list[int], int, int]:
    """Three reservation events and one message event; (reservation ids, conversation, message)."""
    conv = sandbox.state.conversations(account)[0]
    rids = [
        r["id"] for r in sandbox.state.reservations(account) if r["id"] != conv["reservationId"]
    ]
    sandbox.state.update_reservation(account, rids[0], guestNote="needs a crib")
    sandbox.state.cancel_reservation(account, rids[1])
    created = sandbox.state.add_reservation(account)
    message = sandbox.state.add_message(account, conv["id"], body="Where are the keys?")
    return [rids[0], rids[1], created["id"]], conv["id"], message["id"]


def _assert_nothing_lost(wired: Wired, sandbox: SandboxServer, account: int,
                         touched: tuple[list[int], int, int]) -> None:  # fmt: skip
    wait_for(lambda: sandbox.webhooks.pending() == 0, waits.PROCESS_S, "deliveries to end", 0.05)
    log = sandbox.webhooks.log
    assert sum(1 for entry in log if entry[3] == 200) == 4, log  # each event stored once
    given_up = [e for e in log if e[2] == len(RETRY_SCHEDULE_S) and e[3] != 200]
    assert not given_up, log
    report = process_account(wired.engine, account, lambda: wired.client(sandbox, account))
    assert report.events == 4
    rids, conv, message = touched
    assert _stored(wired.engine, "reservations", account, rids) == _theirs(
        sandbox.state.reservations(account), rids
    )
    assert _stored(wired.engine, "messages", account, [message]) == _theirs(
        sandbox.state.messages(account, conv), [message]
    )


@pytest.fixture
def db_proxy(fresh_pg_url: str) -> Iterator[PgProxy]:
    proxy = PgProxy(fresh_pg_url)
    proxy.serve("forward")
    yield proxy
    proxy.close()


def _receiver_process(name: str, db_url: str, secret_key: str, tmp_path: Path) -> tuple[Service, int]:  # fmt: skip
    """`hostaway-pipeline webhooks serve --port 0` (the OS picks); returns it and its port."""
    env = {**os.environ, "HOSTAWAY_DATABASE_URL": db_url, "HOSTAWAY_SECRET_KEY": secret_key,
           "HOSTAWAY_HOME": str(tmp_path / "home"), "HOSTAWAY_WEBHOOK_SECRET": SECRET}  # fmt: skip
    exe = str(Path(sys.executable).with_name("hostaway-pipeline"))
    service = Service(name, [exe, "webhooks", "serve", "--port", "0"], env, Path.cwd(),
                      tmp_path / f"{name}.log")  # fmt: skip

    def port() -> int | None:
        found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", service.log.read_text())
        if found is None and service.popen.poll() is not None:
            raise AssertionError(f"{name} exited:\n{service.tail()}")
        return int(found.group(1)) if found else None

    return service, wait_for(port, waits.PROCESS_S, f"{name} to listen", 0.05)


@pytest.mark.slow  # starts two receiver processes
def test_a_receiver_killed_mid_request_loses_nothing(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, db_proxy: PgProxy, tmp_path: Path
) -> None:
    wired = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    sandbox.webhooks.options = DeliveryOptions(time_scale=TIME_SCALE)
    # Two replicas behind one address (the load balancer): the first reaches the warehouse
    # through a proxy the test can stall, the second directly.
    doomed, doomed_port = _receiver_process("receiver-1", db_proxy.url, secret_key, tmp_path)
    spare, spare_port = _receiver_process("receiver-2", fresh_pg_url, secret_key, tmp_path)
    balancer = PgProxy(f"postgresql://127.0.0.1:{doomed_port}/lb")
    balancer.target = ("127.0.0.1", doomed_port)
    balancer.serve("forward")
    try:
        for port in (doomed_port, spare_port):
            assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200
        _register(sandbox, account, f"http://127.0.0.1:{balancer.port}{HOOK}", wired.engine)
        db_proxy.cut()
        db_proxy.serve("blackhole")  # the warehouse stops answering the first replica
        touched = _mutate(sandbox, account)
        # The first replica is inside a request once it opens a connection to the warehouse.
        wait_for(lambda: db_proxy.accepted["blackhole"] > 0, waits.PROCESS_S,
                 "receiver-1 to be inside a request", 0.01)  # fmt: skip
        os.kill(doomed.pid, signal.SIGKILL)
        balancer.target = ("127.0.0.1", spare_port)
        _assert_nothing_lost(wired, sandbox, account, touched)
        unanswered = [e for e in sandbox.webhooks.log if not isinstance(e[3], int)]
        assert unanswered, "no delivery was cut by the kill"
        assert doomed.popen.wait(timeout=30) == -signal.SIGKILL
    finally:
        balancer.close()
        for service in (doomed, spare):
            assert service.stop() == []
        wired.engine.dispose()


def test_the_warehouse_down_for_a_minute_gets_503s_then_everything_is_stored(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, db_proxy: PgProxy
) -> None:
    wired = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    sandbox.webhooks.options = DeliveryOptions(time_scale=TIME_SCALE)
    engine = db.create_engine(db_proxy.url)  # the receiver's, through the proxy
    try:
        with LocalReceiver(engine, CONFIG) as receiver:
            _register(sandbox, account, receiver.url, wired.engine)
            db_proxy.close()  # down: connections refused, open ones broken
            touched = _mutate(sandbox, account)

            def attempts_503() -> int:
                return sum(1 for e in sandbox.webhooks.log if e[3] == 503)

            # Every event's first attempt and its one-minute retry met the outage.
            try:
                wait_for(lambda: attempts_503() >= 8, waits.PROCESS_S, "two 503s per event", 0.01)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; deliveries: {sandbox.webhooks.log}") from None
            assert requests.get(receiver.base_url + "/readyz", timeout=30).status_code == 503
            assert RETRY_SCHEDULE_S[0] == 60.0  # so the outage lasted a (scaled) minute at least
            db_proxy.serve("forward")
            _assert_nothing_lost(wired, sandbox, account, touched)
            with wired.engine.connect() as conn:
                delivered = conn.execute(
                    sa.text("SELECT count(*) FROM hostaway.webhook_events WHERE account_id=:a"),
                    {"a": account},
                ).scalar_one()
            assert delivered == 4
    finally:
        engine.dispose()
        wired.engine.dispose()
