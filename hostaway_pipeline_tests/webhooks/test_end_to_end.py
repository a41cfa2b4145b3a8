"""Sandbox mutations -> sandbox deliveries (duplicates, reordering, failures and retries) ->
receiver over HTTP -> PostgreSQL inbox -> `process_account` -> warehouse rows equal the sandbox's."""

from __future__ import annotations

import itertools
import time

import requests
import sqlalchemy as sa

from hostaway_pipeline.webhooks.apply import process_account
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline.webhooks.store.events import webhook_events
from hostaway_pipeline_tests.support.webhooks import register as _register
from hostaway_pipeline_tests.support.webhooks import stored as _stored
from hostaway_pipeline_tests.support.webhooks import theirs as _theirs
from hostaway_pipeline_tests.support.webhooks import wait_delivered as _wait_delivered
from hostaway_pipeline_tests.support.wiring import wire
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, keyed
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.webhooks import DeliveryOptions


def test_mutations_reach_the_warehouse_despite_duplicates_reordering_and_failures(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    wired = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    ticks = itertools.count(int(time.time()) - 3600)  # stamps in the past hour, not the future
    sandbox.state.wall_clock = lambda: float(next(ticks))  # every mutation a second later
    # Up to 1 s of reordering, every event twice half the time, every first attempt failing
    # (retried ~60 ms later: Hostaway's schedule at 1/1000 of the time).
    sandbox.webhooks.options = DeliveryOptions(
        duplicate_rate=0.5, reorder_s=1000, fail_attempts=1, time_scale=0.001
    )
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        _register(sandbox, account, receiver.url, wired.engine)
        reservations = sandbox.state.reservations(account)
        convs = sandbox.state.conversations(account)
        conv = convs[0]
        touched = [r["id"] for r in reservations if r["id"] != conv["reservationId"]][:3]
        for n in range(4):
            sandbox.state.update_reservation(account, touched[0], guestNote=f"version {n}")
        sandbox.state.cancel_reservation(account, touched[1])
        created = sandbox.state.add_reservation(account)
        message = sandbox.state.add_message(account, conv["id"], body="Is early check-in ok?")
        _wait_delivered(sandbox)

    report = process_account(wired.engine, account, lambda: wired.client(sandbox, account))
    ids = [touched[0], touched[1], created["id"]]
    assert _stored(wired.engine, "reservations", account, ids) == _theirs(
        sandbox.state.reservations(account), ids
    )
    assert _stored(wired.engine, "messages", account, [message["id"]]) == _theirs(
        sandbox.state.messages(account, conv["id"]), [message["id"]]
    )
    assert report.verified == {}  # complete, ordered events: none fetched to verify
    # The message's conversation and reservation rows follow it (2), and a fresh client's token.
    assert 2 <= report.api_requests <= 3
    assert report.applied + report.stale == 7  # 4 updates, a cancel, a creation, a message
    assert report.stale == 7 - report.applied and report.applied >= 4
    attempts = [entry for entry in sandbox.webhooks.log if entry[3] == "injected failure"]
    assert len(attempts) >= 7  # every delivery failed once and was retried
    with wired.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(webhook_events.c.applied_at.is_(None))
        ).scalar_one()
        kept = conn.execute(
            sa.select(sa.func.count()).where(webhook_events.c.envelope.is_not(None))
        ).scalar_one()
        total = conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar_one()
    assert left == 0
    assert total >= 7 and kept == 0  # applied events keep no guest data of their own
    again = process_account(wired.engine, account)
    assert again.events == 0
    wired.repo.remove(account)
    with wired.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar_one() == 0
        )


def test_partial_message_fetches_that_conversation_once(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    wired = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    conv = sandbox.state.conversations(account)[1]
    msg = sandbox.state.add_message(account, conv["id"], body="partial")
    partial = {
        "object": "conversationMessage",
        "event": "message.received",
        "accountId": account,
        "payload": {"data": {"id": msg["id"], "conversationId": conv["id"]}},
    }
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        auth = keyed(wired.engine, account, receiver.url)
        reply = requests.post(receiver.url, json=partial, auth=auth, timeout=30)
        assert reply.status_code == 200
    report = process_account(wired.engine, account, lambda: wired.client(sandbox, account))
    theirs = sandbox.state.messages(account, conv["id"])
    ids = [m["id"] for m in theirs]
    assert _stored(wired.engine, "messages", account, ids) == _theirs(theirs, ids)
    # one messages page, the conversation and its reservation, and a fresh client's token
    assert report.verified == {"partial": 1} and 3 <= report.api_requests <= 4
    assert report.applied == 1
