"""When an event is applied as it came, and when its entity is fetched from the API instead.

An event is applied as is (0 requests) unless one of these holds; then its entity is fetched
(a reservation: `GET /reservations/{id}`, 1 request; a message: its conversation's messages,
1 request per 100 messages) and what the API serves is written instead of the event's body:
- `partial`: a message event without every field the messages table reads;
- `future`: a stamp (`updatedOn`, a message's `insertedOn` / `date` too) later than now plus
  `SKEW`, or the stored row's stamp is (a forgery written before this rule): a future stamp is
  never applied as is, and can never make a later genuine update look stale;
- `no_stamp`: the event has no `updatedOn` (nothing to order it by);
- `tie`: the stored row has the event's `updatedOn` but another body. Hostaway stamps whole
  seconds and delivers out of order: two changes in one second are told apart only by the API;
- `gap`: the account's previous event (for its first, the registration of its webhook) was
  received more than `GAP` earlier, or is not known at all: events
  may have been lost while the receiver was unreachable (Hostaway gives up after ~1 h of
  retries), so the first event after that is checked against the source.
An event whose stored row is strictly newer is `stale` (skipped, 0 requests) before `gap` is
considered. A 404 from the API means the entity does not exist (a fabricated event): nothing is
written, the event is marked `gone`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.catalog import CONVERSATIONS, MESSAGES, RESERVATIONS
from hostaway_pipeline.client import HostawayClient
from hostaway_pipeline.client.errors import RequestError
from hostaway_pipeline.sync.convert import cursor_value
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import payload_hash
from hostaway_pipeline.webhooks.store import events as inbox
from hostaway_pipeline.webhooks.store.registrations import REGISTERED, webhook_registrations

SKEW = timedelta(minutes=2)
GAP = timedelta(hours=1)
# A message event applies on its own only if it carries every field the typed columns read.
MESSAGE_FIELDS = ("id", "conversationId", "body", "date", "isIncoming", "insertedOn", "updatedOn")
REASONS = ("partial", "future", "no_stamp", "tie", "gap")


def valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def is_reservation(event: inbox.StoredEvent) -> bool:
    return event.object == "reservation" and event.event.startswith("reservation.")


def is_message(event: inbox.StoredEvent) -> bool:
    return event.object == "conversationMessage" and event.event == "message.received"


def _stored(conn: sa.Connection, table: sa.Table, account_id: int, entity_id: int) -> Any:
    """(updated_on, payload_hash, the latest of its stamp columns) of the stored row, or None."""
    stamp_columns = [c for c in ("updated_on", "latest_activity_on") if c in table.c]
    return conn.execute(
        sa.select(table.c.updated_on, table.c.payload_hash,
                  *[table.c[c] for c in stamp_columns]).where(
            table.c.account_id == account_id, table.c.id == entity_id
        )
    ).first()  # fmt: skip


def previous_receipt(conn: sa.Connection, event: inbox.StoredEvent) -> datetime | None:
    """When the account's event before this one was received; for its first event, when its
    webhook was (re-)registered; None when neither is known."""
    t, r = inbox.webhook_events, webhook_registrations
    before = conn.execute(
        sa.select(sa.func.max(t.c.received_at)).where(
            t.c.account_id == event.account_id,
            t.c.received_at < event.received_at,
            t.c.event_key != event.event_key,
        )
    ).scalar_one()
    if before is not None:
        return _aware(before)
    registered = conn.execute(
        sa.select(sa.func.coalesce(r.c.keyed_at, r.c.updated_at)).where(
            r.c.account_id == event.account_id, r.c.state == REGISTERED
        )
    ).scalar_one_or_none()
    return _aware(registered)


def reason(conn: sa.Connection, event: inbox.StoredEvent, now: datetime) -> str | None:
    """Why the event's entity must be fetched before anything is written; None: apply as is."""
    data = event.data
    if data.get("erased"):  # redacted while pending (guest erasure): nothing to fetch
        return None
    stamps: tuple[str, ...]
    if is_reservation(event) and valid_id(data.get("id")):
        table, stamps = schema.reservations, ("updatedOn", "latestActivityOn")
    elif is_message(event) and valid_id(data.get("id")) and valid_id(data.get("conversationId")):
        if any(data.get(k) is None for k in MESSAGE_FIELDS):
            return "partial"
        table, stamps = schema.messages, ("updatedOn", "insertedOn", "date")
    else:
        return None
    horizon = now + SKEW
    marks = [cursor_value(data, s) for s in stamps]
    if any(m is not None and m > horizon for m in marks):
        return "future"
    stamp = marks[0]
    if stamp is None:
        return "no_stamp"
    row = _stored(conn, table, event.account_id, int(data["id"]))
    stored = _aware(row.updated_on) if row is not None else None
    if row is not None and any((_aware(v) or horizon) > horizon for v in row[2:]):
        return "future"  # a forged stamp stored before this rule: never trusted as a bound
    if stored is not None and stored == stamp and row.payload_hash != payload_hash(data):
        return "tie"
    if stored is not None and stored > stamp:
        return None  # stale: skipped without a request
    previous = _aware(previous_receipt(conn, event))
    if previous is None or event.received_at - previous > GAP:
        return "gap"
    return None


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _one(client: HostawayClient, path: str, entity_id: int) -> dict[str, Any] | None:
    """`GET {path}/{id}` (1 request): the object as served, None if it is gone."""
    try:
        result = client.get(f"{path}/{entity_id}").get("result")
    except RequestError as exc:
        if exc.status == 404:
            return None
        raise
    return result if isinstance(result, dict) and result.get("id") == entity_id else None


def conversation(client: HostawayClient, conversation_id: int) -> dict[str, Any] | None:
    """`GET /conversations/{id}`: the conversation as served, None if it is gone."""
    return _one(client, CONVERSATIONS.path, conversation_id)


def reservation(client: HostawayClient, reservation_id: int) -> dict[str, Any] | None:
    """`GET /reservations/{id}`: the reservation as served, None if it is gone."""
    return _one(client, RESERVATIONS.path, reservation_id)


def fetch(client: HostawayClient, event: inbox.StoredEvent) -> list[dict[str, Any]]:
    """What the API serves for the event's entity: the reservation, or every message of the
    conversation; [] when it does not exist (404)."""
    data = event.data
    try:
        if is_reservation(event):
            found = reservation(client, int(data["id"]))
            return [] if found is None else [found]
        path = MESSAGES.path.format(parent_id=int(data["conversationId"]))
        return [r for page in client.pages(path) for r in page.records]
    except RequestError as exc:
        if exc.status == 404:
            return []
        raise
