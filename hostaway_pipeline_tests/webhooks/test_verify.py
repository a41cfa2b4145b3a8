"""Verify before trusting, over real HTTP (receiver, sandbox API) and the real PostgreSQL:
same-second updates in either order, future-stamped forgeries, fabricated entities."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from hostaway_pipeline.catalog import RESERVATIONS
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.webhooks.apply import _upsert, process_account
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.helpers import Wired, wire
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, keyed
from hostaway_sandbox import SandboxServer

T0 = int(time.time()) - 600  # the sandbox clock, pinned ten minutes ago (stamps are not future)


@pytest.fixture
def hooked(fresh_pg_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Any]:
    wired = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        auth = keyed(wired.engine, account, receiver.url)

        def post(data: dict[str, Any], event: str = "reservation.updated") -> None:
            obj = "reservation" if event.startswith("reservation") else "conversationMessage"
            envelope = {"object": obj, "event": event, "accountId": account, "data": data}
            reply = requests.post(receiver.url, json=envelope, auth=auth, timeout=60)
            assert reply.status_code == 200, reply.text

        yield wired, account, post
    wired.engine.dispose()


def _row(wired: Wired, account: int, rid: int) -> Any:
    t = schema.reservations
    with wired.engine.connect() as conn:
        return conn.execute(
            sa.select(t.c.payload, t.c.updated_on).where(t.c.account_id == account, t.c.id == rid)
        ).first()


def _same(wired: Wired, sandbox: SandboxServer, account: int, rid: int) -> bool:
    theirs = next(r for r in sandbox.state.reservations(account) if r["id"] == rid)
    row = _row(wired, account, rid)
    return row is not None and json.dumps(row.payload, sort_keys=True) == json.dumps(
        theirs, sort_keys=True
    )


@pytest.mark.parametrize("newest_first", [True, False])
def test_two_updates_in_one_second_end_with_the_newest_whatever_the_order(
    hooked: Any, sandbox: SandboxServer, newest_first: bool
) -> None:
    wired, account, post = hooked
    other, rid = [r["id"] for r in sandbox.state.reservations(account)][:2]
    sandbox.state.wall_clock = lambda: float(T0 - 30)
    post(sandbox.state.update_reservation(account, other, guestNote="earlier"))  # no gap after it
    sandbox.state.wall_clock = lambda: float(T0)  # both updates stamped in the same second
    three = sandbox.state.update_reservation(account, rid, numberOfGuests=3)
    four = sandbox.state.update_reservation(account, rid, numberOfGuests=4)
    assert three["updatedOn"] == four["updatedOn"]
    for data in [four, three] if newest_first else [three, four]:
        post(data)
    client = lambda: wired.client(sandbox, account)  # noqa: E731
    report = process_account(wired.engine, account, client)
    assert _row(wired, account, rid).payload["numberOfGuests"] == 4
    assert _same(wired, sandbox, account, rid) and _same(wired, sandbox, account, other)
    assert report.verified == {"tie": 1}  # the second of the tied pair only: 1 request


def test_the_first_event_after_a_gap_is_fetched(hooked: Any, sandbox: SandboxServer) -> None:
    from datetime import UTC, datetime, timedelta

    from hostaway_pipeline.webhooks.store.registrations import webhook_registrations

    wired, account, post = hooked
    with wired.engine.begin() as conn:  # registered two hours ago, and no event since
        conn.execute(sa.update(webhook_registrations).values(
            keyed_at=datetime.now(UTC) - timedelta(hours=2)))  # fmt: skip
    first, second = [r["id"] for r in sandbox.state.reservations(account)][:2]
    post(sandbox.state.update_reservation(account, first, guestNote="after a quiet spell"))
    post(sandbox.state.update_reservation(account, second, guestNote="right after"))
    report = process_account(wired.engine, account, lambda: wired.client(sandbox, account))
    assert report.verified == {"gap": 1} and report.applied == 2
    assert _same(wired, sandbox, account, first) and _same(wired, sandbox, account, second)


def test_a_future_stamped_forgery_is_never_applied_and_never_makes_a_genuine_update_stale(
    hooked: Any, sandbox: SandboxServer
) -> None:
    wired, account, post = hooked
    first, rid, poisoned = [r["id"] for r in sandbox.state.reservations(account)][:3]
    client = lambda: wired.client(sandbox, account)  # noqa: E731
    post(sandbox.state.update_reservation(account, first, guestNote="warm-up"))
    process_account(wired.engine, account, client)  # the gap is behind us
    genuine = next(r for r in sandbox.state.reservations(account) if r["id"] == rid)
    forged = {**genuine, "guestName": "Mallory", "status": "cancelled", "totalPrice": 0.01,
              "updatedOn": "2099-01-01 00:00:00", "latestActivityOn": "2099-01-01 00:00:00"}  # fmt: skip
    post(forged)
    fabricated = {**forged, "id": 987_654_321}
    post(fabricated, "reservation.created")
    report = process_account(wired.engine, account, client)
    assert report.verified == {"future": 2} and report.gone == 1
    assert _same(wired, sandbox, account, rid)  # what the API serves, not the forgery
    assert _row(wired, account, 987_654_321) is None  # a fabricated reservation: nothing stored
    # A row poisoned before this rule (stored with a future stamp) is not a bound either.
    with wired.engine.begin() as conn:
        base = next(r for r in sandbox.state.reservations(account) if r["id"] == poisoned)
        _upsert(conn, RESERVATIONS, account, [{**base, "updatedOn": "2099-01-01 00:00:00"}])
    sandbox.state.wall_clock = lambda: float(T0)
    later = sandbox.state.update_reservation(account, rid, numberOfGuests=5)
    post(later)
    post(sandbox.state.update_reservation(account, poisoned, numberOfGuests=6))
    report = process_account(wired.engine, account, client)
    assert report.stale == 0 and report.applied == 2
    assert report.verified == {"future": 1}  # the poisoned row's event only
    assert _same(wired, sandbox, account, rid) and _same(wired, sandbox, account, poisoned)
    assert _row(wired, account, rid).payload["numberOfGuests"] == 5
