"""Are an account's webhooks carrying its changes? The rule behind cadence relaxation (no Dagster).

An account's webhooks are **healthy** when it has a registration (`webhook_registrations`,
state registered), an event arrived within RECENT, and polling found no change they missed.
A **missed change** is a row polling wrote that the webhooks should have carried:
- a reservation whose Hostaway `updatedOn` (bumped by every created/updated/cancelled event) is
  later than the account's last event receipt (or its registration) plus GRACE, or
- an incoming message whose `insertedOn` is, likewise (Hostaway's "new message received"),
and that was written after the account's last applied event (so applying an event did not write
it: an apply writes its rows before it marks the event applied). Changes that webhooks never carry
(a guest message moving a reservation's `latestActivityOn`, outgoing messages, listings) are not
counted. So the rule fires when the webhooks went quiet while the account kept changing; a new
event moves the cutoff past the missed rows and the account is healthy again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.schema import webhook_events
from hostaway_pipeline.webhooks.store import registrations

# A delivery can trail its change by seconds and clocks differ by a little: a change stamped
# within GRACE after the last receipt is not evidence of a lost event.
GRACE = timedelta(minutes=5)
# A typical account (2,000 reservations) gets events every few hours at least; one without any
# for a day is polled at the normal cadence again until one arrives (costing a few requests).
RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class WebhookHealth:
    """One registered account's webhook state as the cadence rule sees it."""

    account_id: int
    registered_at: datetime
    last_event_at: datetime | None  # newest receipt of any event
    last_applied_at: datetime | None
    missed_reservations: int
    missed_messages: int

    @property
    def cutoff(self) -> datetime:
        """Changes stamped after this should have arrived as events."""
        return max(self.registered_at, self.last_event_at or self.registered_at) + GRACE

    @property
    def missed(self) -> int:
        return self.missed_reservations + self.missed_messages

    def healthy(self, now: datetime) -> bool:
        recent = self.last_event_at is not None and now - self.last_event_at <= RECENT
        return recent and self.missed == 0

    def describe(self, now: datetime) -> str:
        """One line naming the account and why (ids and counts only, never guest data)."""
        last = _ago(self.last_event_at, now)
        if self.missed:
            return (
                f"account {self.account_id}: webhooks quiet (last event {last}) while polling "
                f"found {self.missed_reservations} reservation change(s) and "
                f"{self.missed_messages} incoming message(s) stamped after "
                f"{self.cutoff.isoformat(timespec='seconds')}"
            )
        if not self.healthy(now):
            return f"account {self.account_id}: no webhook event within {RECENT} (last {last})"
        return f"account {self.account_id}: webhooks healthy (last event {last})"


def _ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    return f"{max(0.0, (now - at).total_seconds()) / 60:.0f} min ago"


def _count(conn: sa.Connection, table: sa.Table, stamp: str, account_id: int, cutoff: datetime,
           written_after: datetime | None, *extra: sa.ColumnElement[bool]) -> int:  # fmt: skip
    query = sa.select(sa.func.count()).where(
        table.c.account_id == account_id, table.c[stamp] > cutoff, *extra
    )
    if written_after is not None:
        query = query.where(table.c.synced_at > written_after)
    return int(conn.execute(query).scalar_one())


def webhook_health(
    engine: sa.Engine, account_ids: Iterable[int] | None = None
) -> dict[int, WebhookHealth]:
    """Registered accounts' health (of `account_ids` if given); unregistered ones are absent."""
    wanted = None if account_ids is None else set(account_ids)
    regs = {
        aid: r
        for aid, r in registrations.registrations(engine).items()
        if r.state == registrations.REGISTERED and (wanted is None or aid in wanted)
    }
    if not regs:
        return {}
    t = webhook_events
    events = (
        sa.select(t.c.account_id, sa.func.max(t.c.last_received_at), sa.func.max(t.c.applied_at))
        .where(t.c.account_id.in_(list(regs)))
        .group_by(t.c.account_id)
    )
    out = {}
    with engine.connect() as conn:
        seen = {int(r[0]): (r[1], r[2]) for r in conn.execute(events)}
        for aid, reg in sorted(regs.items()):
            last_event, last_applied = seen.get(aid, (None, None))
            draft = WebhookHealth(aid, reg.updated_at, last_event, last_applied, 0, 0)
            res, msg = schema.table("reservations"), schema.table("messages")
            out[aid] = WebhookHealth(
                aid, reg.updated_at, last_event, last_applied,
                _count(conn, res, "updated_on", aid, draft.cutoff, last_applied),
                _count(conn, msg, "inserted_on", aid, draft.cutoff, last_applied,
                       msg.c.is_incoming.is_(True)),
            )  # fmt: skip
    return out


def relaxed_due(last_sync: datetime | None, now: datetime, every: timedelta,
                tick_gap: timedelta) -> bool:  # fmt: skip
    """Whether a healthy account's relaxed incremental is due at the tick `now`.

    Due once its last successful sync is `every` old, less half a tick: a sync that ended a
    little after the tick `every` ago must not wait one more tick.
    """
    return last_sync is None or now - last_sync >= every - tick_gap / 2
