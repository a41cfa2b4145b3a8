"""Guest erasure and retention on each backend (PostgreSQL and SQLite): what is redacted, what is
kept, and that doing it twice changes nothing. The end-to-end proof with the sandbox and the CLI
is hostaway_pipeline_tests/faults/test_guest_erasure.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline.privacy.erasure import ErasureError, erase_guest, redact_erased
from hostaway_pipeline.privacy.retention import purge_deleted
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import soft_delete_missing, upsert_rows

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def seed(engine: sa.Engine) -> None:
    res = [
        {
            "id": r,
            "payload": {
                "id": r,
                "guestName": f"Guest {r}",
                "guestEmail": email,
                "status": "new",
                "nights": 3,
            },
            "status": "new",
            "nights": 3,
        }
        for r, email in ((1, "Ann@Example.com"), (2, "ann@example.com"), (3, "bob@x.org"))
    ]
    conv = [
        {
            "id": 10 + r,
            "payload": {"id": 10 + r, "reservationId": r, "recipientName": "N", "guestEmail": "?"},
            "reservation_id": r,
        }
        for r in (1, 2, 3)
    ]
    msgs = [{"id": 100 + r, "payload": {"id": 100 + r, "conversationId": 10 + r, "body": "hi"},
             "conversation_id": 10 + r} for r in (1, 2, 3)]  # fmt: skip
    with engine.begin() as conn:
        upsert_rows(conn, schema.reservations, 1, res, now=T0)
        upsert_rows(conn, schema.conversations, 1, conv, now=T0)
        upsert_rows(conn, schema.messages, 1, msgs, now=T0)


def payloads(engine: sa.Engine, table: sa.Table) -> dict[int, Any]:
    with engine.connect() as conn:
        return {r.id: r.payload for r in conn.execute(sa.select(table.c.id, table.c.payload))}


def test_erasing_by_email_redacts_every_row_of_that_guest_and_keeps_counts(
    engine: sa.Engine,
) -> None:
    seed(engine)
    report = erase_guest(engine, 1, email=" ANN@example.com ")
    assert report.reservations == (1, 2) and report.conversations == (11, 12)
    assert report.rows_redacted == 6
    res = payloads(engine, schema.reservations)
    assert res[1] == {"id": 1, "status": "new", "nights": 3, "erased": True}
    assert res[3]["guestName"] == "Guest 3"
    assert payloads(engine, schema.conversations)[11] == {"id": 11, "reservationId": 1,
                                                          "erased": True}  # fmt: skip
    assert payloads(engine, schema.messages)[101] == {"id": 101, "conversationId": 11,
                                                      "erased": True}  # fmt: skip
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(schema.reservations)) == 3
        keys = {(r.kind, r.key) for r in conn.execute(sa.select(schema.erasures))}
    assert not any("@" in key for _, key in keys)
    assert erase_guest(engine, 1, email="ann@example.com").rows_redacted == 0  # idempotent


def test_a_later_write_of_an_erased_guest_is_redacted(engine: sa.Engine) -> None:
    seed(engine)
    erase_guest(engine, 1, reservation_id=3)
    served = [{"id": 3, "guestName": "Bob again", "status": "modified", "nights": 4},
              {"id": 4, "guestName": "Someone else", "status": "new"}]  # fmt: skip
    new_message = [{"id": 999, "conversationId": 13, "body": "my code is 1234"}]
    with engine.begin() as conn:
        out, ids = redact_erased(conn, "reservations", 1, served)
        assert ids == [3] and out[0] == {"id": 3, "status": "modified", "nights": 4,
                                         "erased": True} and out[1] == served[1]  # fmt: skip
        out, ids = redact_erased(conn, "messages", 1, new_message, {"conversation_id": 13})
        assert ids == [999] and "body" not in out[0]
        assert redact_erased(conn, "reservations", 2, served)[1] == []  # other account
        assert redact_erased(conn, "listings", 1, served)[1] == []


def test_an_erasure_names_exactly_one_guest(engine: sa.Engine) -> None:
    with pytest.raises(ErasureError):
        erase_guest(engine, 1)
    with pytest.raises(ErasureError):
        erase_guest(engine, 1, reservation_id=1, email="a@b.c")
    with pytest.raises(ErasureError):
        erase_guest(engine, 1, email="no address")


def test_retention_purges_rows_deleted_long_enough_ago_once(engine: sa.Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        soft_delete_missing(conn, schema.reservations, 1, {3}, now=T0)
    early = purge_deleted(engine, 30, now=T0 + timedelta(days=29))
    assert {"reservations", "conversations", "messages", "listing_calendar"} <= early.keys()
    assert set(early.values()) == {0}
    assert purge_deleted(engine, 30, now=T0 + timedelta(days=31))["reservations"] == 2
    assert purge_deleted(engine, 30, now=T0 + timedelta(days=31))["reservations"] == 0
    res = payloads(engine, schema.reservations)
    assert res[1]["erased"] and "guestName" not in res[1] and res[3]["guestName"] == "Guest 3"


def test_erasure_redacts_pending_webhook_events_and_their_apply_writes_no_guest_data(
    engine: sa.Engine,
) -> None:
    import json

    from hostaway_pipeline.webhooks.apply import process_account
    from hostaway_pipeline.webhooks.store import events as inbox
    from hostaway_pipeline.webhooks.store.registrations import record_registered

    seed(engine)
    # Registered when the events came: no gap, so they apply without the API (webhooks/verify.py).
    record_registered(engine, 1, 1, "https://hooks.example/", now=T0, key_id="k")
    events = {
        "r1": ("reservation", "reservation.updated", 1,
               {"id": 1, "guestName": "Ann Again", "guestEmail": "ann@example.com",
                "status": "modified", "nights": 4, "updatedOn": "2026-03-02 10:00:00"}),
        "m1": ("conversationMessage", "message.received", 111,
               {"id": 111, "conversationId": 11, "reservationId": 1, "body": "Ann's secret",
                "date": "2026-03-02 10:00:00", "isIncoming": 1, "insertedOn": "2026-03-02 10:00:00",
                "updatedOn": "2026-03-02 10:00:00"}),
        "r3": ("reservation", "reservation.updated", 3,
               {"id": 3, "guestName": "Bob", "guestEmail": "bob@x.org", "status": "new",
                "updatedOn": "2026-03-02 10:00:00"}),
    }  # fmt: skip
    with engine.begin() as conn:
        for key, (obj, event, eid, data) in events.items():
            envelope = {"object": obj, "event": event, "accountId": 1, "data": data}
            inbox.store_event(conn, key, 1, obj, event, eid, json.dumps(envelope), now=T0)
    report = erase_guest(engine, 1, email="ann@example.com")
    assert report.rows_redacted == 6 + 2  # the seeded rows and the two pending events of Ann
    with engine.connect() as conn:
        stored = {r.event_key: r.envelope for r in conn.execute(sa.select(inbox.webhook_events))}
    assert "Ann" not in json.dumps(stored["r1"]) + json.dumps(stored["m1"])
    assert stored["r3"]["data"]["guestName"] == "Bob"  # another guest's event is untouched
    applied = process_account(engine, 1)
    assert applied.events == 3
    assert "Ann" not in json.dumps(payloads(engine, schema.reservations)[1])
    assert "Ann" not in json.dumps(payloads(engine, schema.messages)[111])
