"""Applying stored webhook events to the warehouse (no Dagster; the sensor's runs call this).

- First the verification rule (webhooks/verify.py): a partial, future-stamped, stamp-less or
  same-second event, or the first after a gap, has its entity fetched from the API (one
  request), and what the API serves is written instead of the event's body.
- `reservation.created` / `reservation.updated`: upsert the reservation the event carries, unless
  the stored row is newer (its `updatedOn` or `latestActivityOn` later than the event's: Hostaway
  delivers out of order).
- `message.received`: upsert the message (or the conversation's messages, when fetched), and
  the conversation as `GET /conversations/{id}` serves it (1 request per conversation per call),
  so its row (`hasUnreadMessages`, last-message fields) follows its messages, and its
  reservation as `GET /reservations/{id}` serves it (a message moves `latestActivityOn`; 1 more
  request, once per reservation per call). The messages' watermark stays apart (warehouse/child_marks.py): the next sweep still refetches what the
  webhooks did not carry (an outgoing reply, a lost event).
- anything else is marked `ignored` (kept in the inbox for a later version).
Each event is marked applied in the same transaction as its writes; a crash before the commit
leaves it pending, and applying it again is idempotent (hash-guarded upserts, stale checks).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.catalog import CONVERSATIONS, MESSAGES, RESERVATIONS, StreamSpec
from hostaway_pipeline.catalog.webhook_routes import ENTITY_OF
from hostaway_pipeline.client import HostawayClient
from hostaway_pipeline.privacy.erasure import redact_erased
from hostaway_pipeline.sync.convert import cursor_value, typed_row
from hostaway_pipeline.warehouse import child_marks, schema
from hostaway_pipeline.warehouse.writes import upsert_rows
from hostaway_pipeline.webhooks import verify
from hostaway_pipeline.webhooks.store import events as inbox

log = logging.getLogger("hostaway_pipeline.webhooks")
BATCH = 500


@dataclass
class ApplyReport:
    """What one `process_account` did: counts and receipt-to-apply lags (seconds)."""

    account_id: int
    applied: int = 0
    duplicates: int = 0  # redeliveries, and events whose content was already stored
    stale: int = 0
    ignored: int = 0
    gone: int = 0  # fetched to verify, and the API has no such entity: nothing written
    verified: Counter[str] = field(default_factory=Counter)  # events fetched, by reason
    api_requests: int = 0
    pruned: int = 0  # applied events deleted by the retention
    lags_s: list[float] = field(default_factory=list)

    @property
    def events(self) -> int:
        return self.applied + self.stale + self.ignored + self.gone

    def lag(self) -> dict[str, float]:
        """p50 / p95 / max lag from receipt to apply, seconds (0 without events)."""
        if not self.lags_s:
            return {"p50": 0.0, "p95": 0.0, "max": 0.0}
        ordered = sorted(self.lags_s)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

        return {"p50": pct(0.5), "p95": pct(0.95), "max": ordered[-1]}

    def summary(self) -> str:
        lag = self.lag()
        return (
            f"account {self.account_id}: {self.applied} applied, {self.duplicates} duplicate(s), "
            f"{self.stale} stale skipped, {self.ignored} ignored, {self.gone} gone, "
            f"{sum(self.verified.values())} verified against the API, {self.api_requests} API "
            f"request(s); lag p50 {lag['p50']:.1f} s, p95 {lag['p95']:.1f} s, max {lag['max']:.1f} s"
        )


class _Raced(Exception):
    """Another process applied the event first: roll this transaction back."""


def _newer(stored: datetime | None, event: datetime | None) -> bool:
    return stored is not None and (event is None or stored > event)


def _upsert(
    conn: sa.Connection,
    spec: StreamSpec,
    account_id: int,
    records: list[dict[str, Any]],
    fixed: Mapping[str, object] | None = None,
) -> bool:
    """Upsert records of `spec` (erasures honoured); True when any row changed."""
    records, _erased = redact_erased(conn, spec.table, account_id, records, fixed)
    rows = []
    for record in records:
        typed, _bad = typed_row(record, spec.fields)
        rows.append({"id": record["id"], "payload": record, **typed, **(fixed or {})})
    return upsert_rows(conn, schema.table(spec.table), account_id, rows).written > 0


def _is_stale(conn: sa.Connection, table: sa.Table, account_id: int, data: dict[str, Any],
              stamps: tuple[tuple[str, str], ...]) -> bool:  # fmt: skip
    cols = [table.c[column] for column, _source in stamps]
    row = conn.execute(
        sa.select(*cols).where(table.c.account_id == account_id, table.c.id == data["id"])
    ).first()
    if row is None:
        return False
    return any(
        _newer(stored, cursor_value(data, source))
        for stored, (_column, source) in zip(row, stamps, strict=True)
    )


def _entity(event: inbox.StoredEvent) -> str | None:
    """The entity an event writes (None: one this version ignores anyway)."""
    return ENTITY_OF.get(event.object)


def _apply_one(conn: sa.Connection, event: inbox.StoredEvent,
               fetched: list[dict[str, Any]] | None) -> str:  # fmt: skip
    data, account_id = event.data, event.account_id
    if verify.is_reservation(event):
        if fetched is not None:  # what the API serves, whatever the event said
            return _changed(_upsert(conn, RESERVATIONS, account_id, fetched)) if fetched else "gone"
        if not verify.valid_id(data.get("id")):
            return "ignored"
        stamps = (("updated_on", "updatedOn"), ("latest_activity_on", "latestActivityOn"))
        if _is_stale(conn, schema.reservations, account_id, data, stamps):
            return "stale"
        return _changed(_upsert(conn, RESERVATIONS, account_id, [data]))
    if verify.is_message(event):
        if fetched is not None:
            if not fetched:
                return "gone"
            fixed = {"conversation_id": data["conversationId"]}
            return _changed(_upsert(conn, MESSAGES, account_id, fetched, fixed))
        if not verify.valid_id(data.get("id")) or not verify.valid_id(data.get("conversationId")):
            return "ignored"
        if _is_stale(conn, schema.messages, account_id, data, (("updated_on", "updatedOn"),)):
            return "stale"
        fixed = {"conversation_id": data["conversationId"]}
        return _changed(_upsert(conn, MESSAGES, account_id, [data], fixed))
    return "ignored"


def _wants(selected: Collection[str] | None, entity: str) -> bool:
    return selected is None or entity in selected


def _conversation_to_refresh(event: inbox.StoredEvent, refreshed: set[int]) -> int | None:
    """The conversation a message event's row must follow (once per call), else None."""
    cid = event.data.get("conversationId")
    if not verify.is_message(event) or not verify.valid_id(cid) or event.data.get("erased"):
        return None
    return cid if isinstance(cid, int) and cid not in refreshed else None


def _refresh_conversation(conn: sa.Connection, account_id: int, conv: dict[str, Any]) -> None:
    """Write the conversation as served, its messages' watermark kept where it was."""
    table = schema.conversations
    row = conn.execute(
        sa.select(table.c.payload).where(table.c.account_id == account_id, table.c.id == conv["id"])
    ).first()
    if row is not None:  # the sync compared with this row until now: keep its stamps as marks
        fields = MESSAGES.parent_change_fields
        child_marks.keep(conn, account_id, MESSAGES.name, conv["id"],
                         child_marks.pick(row.payload, fields))  # fmt: skip
    _upsert(conn, CONVERSATIONS, account_id, [conv])


def _changed(changed: bool) -> str:
    return "applied" if changed else "duplicate"


def process_account(
    engine: sa.Engine,
    account_id: int,
    client_factory: Callable[[], HostawayClient] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    selected: Collection[str] | None = None,
    retention_days: int | None = None,
) -> ApplyReport:
    """Apply the account's pending events, oldest first, until none is left.

    `selected`: the entities the account syncs (selection.py; None: all). An event for an
    entity it does not select is marked `ignored`, without a write or a request.
    `retention_days`: then delete the account's events applied longer ago than that.
    """
    report = ApplyReport(account_id)
    client: HostawayClient | None = None
    refreshed: set[int] = set()  # conversations fetched in this call: once each
    refreshed_res: set[int] = set()  # their reservations, likewise
    try:
        while True:
            with engine.connect() as conn:
                events = inbox.pending(conn, account_id, BATCH)
            if not events:
                if retention_days is not None:
                    with engine.begin() as conn:
                        report.pruned = inbox.prune_applied(
                            conn, account_id, now() - timedelta(days=retention_days)
                        )
                return report
            for event in events:
                fetched = None
                conv: dict[str, Any] | None = None
                res: dict[str, Any] | None = None
                skip = selected is not None and _entity(event) not in (None, *selected)
                with engine.connect() as conn:
                    why = None if skip else verify.reason(conn, event, now())
                cid = None if skip else _conversation_to_refresh(event, refreshed)
                if why is not None or cid is not None:
                    if client is None:
                        if client_factory is None:
                            raise RuntimeError(
                                f"account {account_id}: an event needs the API "
                                f"({why or 'conversation'}), and no Hostaway client was given"
                            )
                        client = client_factory()
                    before = client.stats.requests
                    if why is not None:
                        fetched = verify.fetch(client, event)
                        report.verified[why] += 1
                    if cid is not None:
                        conv = verify.conversation(client, cid)
                        rid = (conv or {}).get("reservationId")
                        if (
                            isinstance(rid, int)
                            and rid not in refreshed_res
                            and _wants(selected, RESERVATIONS.name)
                        ):  # a message moves its reservation's latestActivityOn too
                            res = verify.reservation(client, rid)
                    report.api_requests += client.stats.requests - before
                try:
                    with engine.begin() as conn:
                        outcome = "ignored" if skip else _apply_one(conn, event, fetched)
                        if conv is not None:
                            _refresh_conversation(conn, account_id, conv)
                        if res is not None:
                            _upsert(conn, RESERVATIONS, account_id, [res])
                        applied_at = now()
                        if not inbox.mark_applied(conn, event.event_key, outcome, applied_at):
                            raise _Raced
                except _Raced:
                    continue
                if cid is not None:
                    refreshed.add(cid)
                if res is not None:
                    refreshed_res.add(res["id"])
                _count(report, outcome, event, applied_at)
    finally:
        if client is not None:
            client.close()


def _count(report: ApplyReport, outcome: str, event: inbox.StoredEvent, at: datetime) -> None:
    report.duplicates += event.deliveries - 1
    if outcome == "stale":
        report.stale += 1
    elif outcome == "ignored":
        report.ignored += 1
    elif outcome == "gone":
        report.gone += 1
    else:
        report.applied += 1
        report.duplicates += outcome == "duplicate"
    report.lags_s.append(max(0.0, (at - event.received_at).total_seconds()))


def process_all(settings: Any, account_id: int | None = None) -> Iterator[str]:
    """`webhooks process`: apply pending events of one or every account; one line per account."""
    from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
    from hostaway_pipeline.accounts.repo import AccountRepo
    from hostaway_pipeline.accounts.secrets import load_secret_box
    from hostaway_pipeline.accounts.selection import entity_selection
    from hostaway_pipeline.accounts.tokens import SqlTokenStore
    from hostaway_pipeline.warehouse import db
    from hostaway_pipeline.webhooks.config import retention_days

    engine = db.create_engine(settings.database_url)
    try:
        db.upgrade_once(engine)
        box = load_secret_box(settings, engine=engine)
        repo = AccountRepo(engine, box)
        config = settings.client_config()
        with engine.connect() as conn:
            pending = inbox.pending_accounts(conn)
        targets = [account_id] if account_id is not None else sorted(pending)
        if not targets:
            yield "no pending webhook events"
        for aid in targets:

            def factory(aid: int = aid) -> HostawayClient:
                return HostawayClient(aid, repo.client_secret(aid), config,
                                      SqlTokenStore(engine, box), SqlRateLimitStore(engine))  # fmt: skip

            known = {a.account_id: a for a in repo.list_accounts()}
            chosen = entity_selection(settings.entities, known.get(aid))
            yield process_account(engine, aid, factory, selected=chosen,
                                  retention_days=retention_days()).summary()  # fmt: skip
    finally:
        engine.dispose()
