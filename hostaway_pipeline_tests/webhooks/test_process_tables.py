"""After `webhooks process` the warehouse equals the sandbox, whole tables compared (reservations,
conversations, messages), with every event delivered twice and each batch newest first; a
message event leaves its conversation row equal to the API's, and the next sweep still refetches
the messages webhooks did not carry (an outgoing reply)."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.cli import main
from hostaway_pipeline.sync.core import SyncMode
from hostaway_pipeline.sync.engine import SyncEngine
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.helpers import Wired, sandbox_payloads, warehouse_payloads, wire
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, keyed
from hostaway_sandbox import SandboxServer

TABLES = ("reservations", "conversations", "messages")


def _sync(wired: Wired, sandbox: SandboxServer, account: int, mode: SyncMode) -> Any:
    with wired.client(sandbox, account) as client:
        engine = SyncEngine(client, wired.engine, account)
        engine.run(streams.RESERVATIONS, mode, timedelta(seconds=0))
        return engine.run(streams.MESSAGES, mode, timedelta(seconds=0))


def _differences(wired: Wired, sandbox: SandboxServer, account: int) -> dict[str, list[int]]:
    out = {}
    for name in TABLES:
        ours = warehouse_payloads(wired.engine, name, account)
        theirs = sandbox_payloads(sandbox, name, account)
        bad = sorted(i for i in ours.keys() | theirs.keys() if ours.get(i) != theirs.get(i))
        if bad:
            out[name] = bad
    return out


def test_webhooks_process_leaves_whole_tables_equal_to_the_sandbox(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    wired = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    for name, value in {
        "HOSTAWAY_API_URL": sandbox.url,
        "HOSTAWAY_DATABASE_URL": fresh_pg_url,
        "HOSTAWAY_SECRET_KEY": secret_key,
        "HOSTAWAY_HOME": str(tmp_path / "h"),
        "HOSTAWAY_RATE_LIMIT_WINDOW_S": str(sandbox.limiter.window_s),
    }.items():
        monkeypatch.setenv(name, value)  # fmt: skip
    ticks = itertools.count(int(time.time()) - 3600)  # a second per mutation, in the past hour
    sandbox.state.wall_clock = lambda: float(next(ticks))
    _sync(wired, sandbox, account, SyncMode.FULL)
    assert _differences(wired, sandbox, account) == {}

    captured: list[dict[str, Any]] = []
    sandbox.state.on_change = lambda aid, obj, event, data: captured.append(
        {"object": obj, "event": event, "accountId": aid, "data": data}
    )
    reservations = [r["id"] for r in sandbox.state.reservations(account)]
    convs = sandbox.state.conversations(account)
    first, second = convs[0]["id"], convs[1]["id"]
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        auth = keyed(wired.engine, account, receiver.url)

        def deliver_newest_first() -> None:
            for envelope in reversed(captured):  # newest first, each one twice
                for _ in range(2):
                    reply = requests.post(receiver.url, json=envelope, auth=auth, timeout=60)
                    assert reply.status_code == 200
            captured.clear()

        for n in range(3):
            sandbox.state.update_reservation(account, reservations[0], guestNote=f"v{n}")
        sandbox.state.cancel_reservation(account, reservations[1])
        sandbox.state.add_reservation(account)
        sandbox.state.add_message(account, first, body="Can we check in early?")
        sandbox.state.add_message(account, first, body="And a late check-out?")
        sandbox.state.add_message(account, second, body="Where are the keys?")
        deliver_newest_first()
        assert main(["webhooks", "process", "--account", str(account)]) == 0
        out = capsys.readouterr().out
        assert _differences(wired, sandbox, account) == {}, out

        # A second batch on the same rows, again newest first.
        sandbox.state.update_reservation(account, reservations[0], numberOfGuests=7)
        sandbox.state.add_message(account, second, body="Found them, thanks")
        deliver_newest_first()
        assert main(["webhooks", "process", "--account", str(account)]) == 0
        assert _differences(wired, sandbox, account) == {}

    # A reply sent from Hostaway (no webhook carries it): the conversation row the webhooks
    # refreshed must not hide it from the next sweep.
    sandbox.state.on_change = None
    sandbox.state.add_message(account, second, body="You're welcome", incoming=False)
    thanks = sandbox.state.add_message(account, second, body="Thanks!")  # delivered: the row
    with LocalReceiver(wired.engine, CONFIG) as receiver:  # of that conversation is refreshed
        envelope = {"object": "conversationMessage", "event": "message.received",
                    "accountId": account, "data": thanks}  # fmt: skip
        auth = keyed(wired.engine, account, receiver.url)
        assert requests.post(receiver.url, json=envelope, auth=auth, timeout=60).status_code == 200
    assert main(["webhooks", "process", "--account", str(account)]) == 0
    assert "messages" in _differences(wired, sandbox, account)  # the reply: not there yet
    report = _sync(wired, sandbox, account, SyncMode.INCREMENTAL)
    assert _differences(wired, sandbox, account) == {}
    assert report.parents_changed >= 1  # the conversation with the reply was refetched
