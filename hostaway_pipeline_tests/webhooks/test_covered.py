"""Polling after webhooks: a conversation whose new message the webhooks delivered is not refetched
(sync/covered.py); one whose message only polling can bring is, exactly as without webhooks.

Sandbox over HTTP, receiver over HTTP, the real PostgreSQL, the real engine."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.webhooks.apply import process_account
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.support.webhooks import PATH
from hostaway_pipeline_tests.support.webhooks import register as _register
from hostaway_pipeline_tests.support.webhooks import wait_delivered as _wait_delivered
from hostaway_pipeline_tests.support.wiring import Wired, sandbox_payloads, warehouse_payloads, wire
from hostaway_pipeline_tests.webhooks.conftest import CONFIG
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(minutes=5)


def _sync(w: Wired, server: SandboxServer, account: int, mode: SyncMode) -> SyncReport:
    server.stats.reset()
    with w.client(server, account) as client:
        return SyncEngine(client, w.engine, account).run(streams.MESSAGES, mode, LOOKBACK)


def _fetched(server: SandboxServer, conversation_id: int) -> int:
    path = f"/v1/conversations/{conversation_id}/messages"
    return sum(1 for r in server.stats.log if r.path == path)


def _received_on(w: Wired, account: int, conversation_id: int) -> object:
    table = schema.conversations
    with w.engine.connect() as conn:
        return conn.execute(
            sa.select(table.c.payload).where(
                table.c.account_id == account, table.c.id == conversation_id
            )
        ).scalar_one()["messageReceivedOn"]


def test_a_delivered_message_costs_no_refetch_a_polled_one_does(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    w = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    convs = sandbox.state.conversations(account)
    hooked, polled = convs[0]["id"], convs[1]["id"]
    _sync(w, sandbox, account, SyncMode.FULL)
    sandbox.state.add_message(account, polled, body="before the webhook was registered")
    with LocalReceiver(w.engine, CONFIG) as receiver:
        _register(sandbox, account, receiver.url, w.engine)
        sandbox.state.add_message(account, hooked, body="Is early check-in ok?")
        _wait_delivered(sandbox)
    applied = process_account(w.engine, account, lambda: w.client(sandbox, account))
    # The message itself costs nothing; its conversation and reservation rows follow it (2).
    assert applied.applied == 1 and applied.api_requests == 2 and applied.verified == {}

    first = _sync(w, sandbox, account, SyncMode.INCREMENTAL)
    assert (_fetched(sandbox, hooked), _fetched(sandbox, polled)) == (0, 1)
    assert first.parents_covered == 1 and first.parents_changed == 1
    for name in ("conversations", "messages"):  # the mirror is whole all the same
        assert warehouse_payloads(w.engine, name, account) == sandbox_payloads(
            sandbox, name, account
        ), name
    theirs = next(c for c in sandbox.state.conversations(account) if c["id"] == hooked)
    assert _received_on(w, account, hooked) == theirs["messageReceivedOn"]

    # Both are still recent. The polled one is refetched once more (a message stamped in the
    # second polling read it may have come after the read); the delivered one is not.
    second = _sync(w, sandbox, account, SyncMode.INCREMENTAL)
    assert (_fetched(sandbox, hooked), _fetched(sandbox, polled)) == (0, 1)
    assert second.parents_covered == 1

    # A reply the webhooks did not carry moves messageSentOn: that is polling's to fetch.
    for hook in sandbox.webhooks.registrations(account):
        assert sandbox.webhooks.handle(account, "DELETE", f"{PATH}/{hook['id']}", None)[0] == 200
    reply = sandbox.state.add_message(account, hooked, body="Yes, from 1 pm.", incoming=False)
    third = _sync(w, sandbox, account, SyncMode.INCREMENTAL)
    assert _fetched(sandbox, hooked) == 1 and third.parents_covered == 0
    assert reply["id"] in warehouse_payloads(w.engine, "messages", account)
