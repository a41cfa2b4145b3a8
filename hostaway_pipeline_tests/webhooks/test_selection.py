"""Webhook events of an entity the account does not select are ignored: no write, no request."""

from __future__ import annotations

from typing import Any

import requests
import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.webhooks.apply import process_account
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.webhooks.conftest import keyed

STAMP = "2026-12-01 10:00:00"


def _event(object_: str, event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"object": object_, "event": event, "accountId": 101, "data": data}


def _ids(engine: sa.Engine, table: str) -> set[int]:
    t = schema.table(table)
    with engine.connect() as conn:
        return set(conn.scalars(sa.select(t.c.id).where(t.c.account_id == 101)))


def test_events_of_unselected_entities_are_ignored_and_selected_ones_applied(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    message = {
        "id": 9, "conversationId": 3, "body": "hello", "date": STAMP, "isIncoming": 1,
        "insertedOn": STAMP, "updatedOn": STAMP,
    }  # fmt: skip
    events = [
        _event("reservation", "reservation.updated", {"id": 7, "updatedOn": STAMP}),
        _event("conversationMessage", "message.received", message),
        # A partial message would need the API: unselected, it must not even build a client.
        _event("conversationMessage", "message.received", {"id": 10, "conversationId": 4}),
    ]
    auth = keyed(pg_engine, 101)  # registered just now: its first event follows no gap
    for body in events:
        reply = requests.post(receiver.url, json=body, auth=auth, timeout=30)
        assert reply.json()["status"] == "stored"

    def no_client() -> Any:
        raise AssertionError("an unselected entity's event made an API request")

    report = process_account(pg_engine, 101, no_client, selected={"reservations"})
    assert (report.applied, report.ignored) == (1, 2)
    assert _ids(pg_engine, "reservations") == {7}
    assert _ids(pg_engine, "messages") == set()
