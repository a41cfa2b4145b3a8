"""The receiver over real HTTP with the real PostgreSQL: auth, envelope, caps, idempotent storage."""

from __future__ import annotations

import json
import socket
from typing import Any

import requests
import sqlalchemy as sa

from hostaway_pipeline.webhooks.app import create_app  # noqa: F401  (import check)
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline.webhooks.store.events import webhook_events
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, LOGIN, PASSWORD

AUTH = (LOGIN, PASSWORD)
GUEST = "Ada Lovelace"


def _reservation(
    account_id: int = 101, rid: int = 7, updated: str = "2026-12-01 10:00:00"
) -> dict[str, Any]:
    return {
        "object": "reservation",
        "event": "reservation.updated",
        "accountId": account_id,
        "data": {"id": rid, "guestName": GUEST, "updatedOn": updated, "latestActivityOn": updated},
    }


def _rows(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(webhook_events).order_by(webhook_events.c.received_at)))


def test_stores_event_before_answering_and_counts_duplicates(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    first = requests.post(receiver.url, json=_reservation(), auth=AUTH, timeout=30)
    again = requests.post(receiver.url, json=_reservation(), auth=AUTH, timeout=30)
    assert (first.status_code, first.json()["status"]) == (200, "stored")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    (row,) = _rows(pg_engine)
    assert (row.account_id, row.object, row.event, row.entity_id) == (
        101,
        "reservation",
        "reservation.updated",
        7,
    )
    assert row.deliveries == 2 and row.applied_at is None
    assert row.envelope["data"]["guestName"] == GUEST


def test_nested_payload_data_form_is_the_same_event(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    flat = _reservation()
    nested = {k: v for k, v in flat.items() if k != "data"} | {"payload": {"data": flat["data"]}}
    assert (
        requests.post(receiver.url, json=flat, auth=AUTH, timeout=30).json()["status"] == "stored"
    )
    assert (
        requests.post(receiver.url, json=nested, auth=AUTH, timeout=30).json()["status"]
        == "duplicate"
    )
    wrapped = {"payload": _reservation(rid=8)}
    assert (
        requests.post(receiver.url, json=wrapped, auth=AUTH, timeout=30).json()["status"]
        == "stored"
    )
    assert sorted(r.entity_id for r in _rows(pg_engine)) == [7, 8]


def test_bad_credentials_get_401_without_detail(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    for auth in [None, (LOGIN, "wrong password!!!"), ("other", PASSWORD), (LOGIN, PASSWORD + "x")]:
        reply = requests.post(receiver.url, json=_reservation(), auth=auth, timeout=30)
        assert reply.status_code == 401
        assert reply.content == b""
    garbage = requests.post(
        receiver.url, json=_reservation(), headers={"Authorization": "Basic !!!"}, timeout=30
    )
    assert garbage.status_code == 401
    assert _rows(pg_engine) == []


def test_oversized_malformed_and_hostile_bodies_are_refused(
    receiver: LocalReceiver, pg_engine: sa.Engine, caplog: Any
) -> None:
    big = _reservation()
    big["data"]["notes"] = "x" * (CONFIG.max_body_bytes + 1)
    assert requests.post(receiver.url, json=big, auth=AUTH, timeout=30).status_code == 413
    bodies = [
        b"not json",
        b"[1, 2]",
        b'{"object": "reservation", "event": "reservation.updated", "accountId": 101}',
        b'{"object": "reservation", "event": "x", "accountId": "abc", "data": {}}',
        b'{"object": "reservation", "event": "x", "accountId": 101, "data": [1]}',
        b'{"object": 5, "event": "x", "accountId": 101, "data": {}}',
        b'{"object": "r", "event": "x", "accountId": 101, "data": {"n": NaN}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe",
    ]
    for body in bodies:
        reply = requests.post(receiver.url, data=body[: CONFIG.max_body_bytes], auth=AUTH, timeout=30,
                              headers={"Content-Type": "application/json"})  # fmt: skip
        assert reply.status_code in (400, 413), body[:40]
    assert _rows(pg_engine) == []
    assert GUEST not in caplog.text


def test_chunked_body_over_the_cap_is_refused(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    def chunks() -> Any:
        for _ in range(CONFIG.max_body_bytes // 1024 + 2):
            yield b"x" * 1024

    reply = requests.post(receiver.url, data=chunks(), auth=AUTH, timeout=30)
    assert reply.status_code == 413
    assert _rows(pg_engine) == []


def test_unknown_account_gets_401_and_nothing_stored(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    reply = requests.post(receiver.url, json=_reservation(account_id=999), auth=AUTH, timeout=30)
    assert (reply.status_code, reply.content) == (401, b"")  # as a disabled one (test_credentials)
    assert _rows(pg_engine) == []
    health = requests.get(receiver.base_url + "/healthz", timeout=30).json()
    assert health == {"status": "ok"}


def test_unknown_event_is_stored_and_answered_200(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    event = {"object": "listing", "event": "listing.updated", "accountId": 101, "data": {"id": 3}}
    assert requests.post(receiver.url, json=event, auth=AUTH, timeout=30).status_code == 200
    assert [r.event for r in _rows(pg_engine)] == ["listing.updated"]


def test_warehouse_down_answers_503_and_readyz_fails(secret_key: str) -> None:
    from hostaway_pipeline.warehouse import db

    with socket.socket() as s:  # a port nobody listens on: the database is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = db.create_engine(f"postgresql+psycopg://root@127.0.0.1:{port}/none?connect_timeout=3")
    with LocalReceiver(engine, CONFIG) as r:
        reply = requests.post(r.url, json=_reservation(), auth=AUTH, timeout=60)
        assert reply.status_code == 503
        assert requests.get(r.base_url + "/readyz", timeout=60).status_code == 503
        assert requests.get(r.base_url + "/healthz", timeout=60).status_code == 200
    engine.dispose()


def test_stored_body_survives_values_postgres_cannot_hold(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    event = _reservation()
    event["data"]["note"] = "nul\u0000inside"
    body = json.dumps(event).encode()
    assert requests.post(receiver.url, data=body, auth=AUTH, timeout=30).status_code == 200
    (row,) = _rows(pg_engine)
    assert (
        row.envelope["data"]["note"] != "nul\u0000inside"
    )  # stored marked (client/payloads.py), not lost
