"""Hostile values at the receiver's door, over real HTTP with the real PostgreSQL: each gets a 4xx
or is stored marked, never a 500, and the account's later events still apply."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from hostaway_pipeline.catalog import RESERVATIONS
from hostaway_pipeline.sync.convert import typed_row
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.webhooks.apply import process_account
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline.webhooks.store.events import webhook_events
from hostaway_pipeline_tests.webhooks.conftest import keyed

STAMP = "2026-12-01 10:00:00"
HUGE = "9" * 5000


def _envelope(data: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"object": "reservation", "event": "reservation.updated", "accountId": 101,
            "data": data, **over}  # fmt: skip


REFUSED = [
    # accountId: superscript two, Arabic-Indic digits, padded, huge
    json.dumps(_envelope({"id": 1}, accountId="²")),
    json.dumps(_envelope({"id": 1}, accountId="\u0661\u0660\u0661")),  # Arabic-Indic 101
    json.dumps(_envelope({"id": 1}, accountId="0101")),
    json.dumps(_envelope({"id": 1}, accountId=HUGE)),
    # numbers Python's json would turn into inf or refuse past 4,300 digits
    json.dumps(_envelope({"id": 1})).replace('"id": 1', '"id": 1, "totalPrice": 1e400'),
    json.dumps(_envelope({"id": 1})).replace('"id": 1', f'"id": 1, "totalPrice": {HUGE}'),
    json.dumps(_envelope({"id": 1})).replace('"id": 1', '"id": 1' + "0" * 41),
    # control characters, spaces, non-ASCII in names (they reach log lines)
    json.dumps(_envelope({"id": 1}, object="reservation\nINFO forged log line")),
    json.dumps(_envelope({"id": 1}, event="reservation.updated\r\n")),
    json.dumps(_envelope({"id": 1}, event="reservation updated")),
    json.dumps(_envelope({"id": 1}, object="réservation")),
]


def test_hostile_values_get_4xx_or_a_marked_row_and_later_events_apply(
    receiver: LocalReceiver, pg_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    auth = keyed(pg_engine, 101, receiver.url)
    caplog.set_level(logging.INFO, logger="hostaway_pipeline.webhooks")
    for body in REFUSED:
        reply = requests.post(receiver.url, data=body.encode(), auth=auth, timeout=60,
                              headers={"Content-Type": "application/json"})  # fmt: skip
        assert 400 <= reply.status_code < 500, body[:80]
    assert "forged log line" not in caplog.text
    with pg_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar() == 0
    # Stored, typed where it can be: 5,000-digit numeric strings, a huge string id, NUL.
    stored = [
        {"id": 7, "updatedOn": STAMP, "numberOfGuests": HUGE, "totalPrice": HUGE,
         "guestName": "nul\u0000inside", "listingMapId": "-" + HUGE},
        {"id": HUGE, "updatedOn": STAMP},
    ]  # fmt: skip
    for data in stored:
        reply = requests.post(receiver.url, json=_envelope(data), auth=auth, timeout=60)
        assert reply.status_code == 200, reply.text
    later = {"id": 8, "updatedOn": STAMP, "numberOfGuests": 2, "totalPrice": 120.5}
    assert requests.post(receiver.url, json=_envelope(later), auth=auth, timeout=60).ok
    report = process_account(pg_engine, 101)  # no ValueError: the queue is not blocked
    assert (report.applied, report.ignored) == (2, 1)  # the huge string id is no entity
    t = schema.reservations
    with pg_engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(t).where(t.c.account_id == 101))}
    assert rows[7].number_of_guests is None and rows[7].total_price is None  # not typed
    assert rows[8].number_of_guests == 2


def test_huge_numeric_strings_do_not_raise_when_typing_api_records() -> None:
    record = {"id": 1, "numberOfGuests": HUGE, "totalPrice": HUGE, "listingMapId": "-" + HUGE,
              "arrivalDate": HUGE, "nights": "1" * 4400}  # fmt: skip
    row, bad = typed_row(record, RESERVATIONS.fields)
    assert {"numberOfGuests", "totalPrice", "listingMapId", "nights"} <= set(bad)
    assert row["number_of_guests"] is None
