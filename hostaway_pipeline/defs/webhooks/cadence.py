"""Polling as the safety net: accounts whose webhooks are healthy get a relaxed incremental cadence.

The incremental schedule still ticks on its cron for every account; an account whose webhooks
are healthy (`webhooks/store/health.py`: registered, an event within a day, no change missed)
is skipped until its last successful sync is HOSTAWAY_WEBHOOK_INCREMENTAL_MINUTES old (default
60), and its messages (with the conversation list) are left out of those runs until they are
HOSTAWAY_WEBHOOK_CONVERSATION_MINUTES old (default 240): the list costs a request per 100
conversations and cannot be filtered by time, while the webhooks deliver new guest messages, so
polling it hourly would cost more than everything else the safety net does. The moment polling finds changes the webhooks should have carried, the account is unhealthy
and back on the normal cadence at the next tick; the `webhooks_quiet` check says so. Full syncs
are never relaxed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.defs._support.private import get_smallest_cron_interval
from hostaway_pipeline.warehouse.freshness import last_successes
from hostaway_pipeline.webhooks.store import health as webhook_health

# Polled every relaxed incremental; and what is polled only every HOSTAWAY_WEBHOOK_CONVERSATION_
# MINUTES (messages, with the conversation list that cannot be filtered by time: 15 requests for
# 1,500 conversations, while the webhooks carry new guest messages).
RELAXED = (streams.LISTINGS.name, streams.RESERVATIONS.name)
SWEPT = frozenset({streams.MESSAGES.name})


@dataclass(frozen=True)
class Relaxed:
    """One tick's relaxation: accounts skipped whole (with the reason), and the entities (table
    names) held back from the run of an account whose conversation sweep is not due yet."""

    skipped: dict[int, str] = field(default_factory=dict)
    held: dict[int, frozenset[str]] = field(default_factory=dict)


class Cadence:
    """The relaxed cadences of one incremental schedule (built once with the definitions)."""

    def __init__(self, every_minutes: int, conversation_minutes: int, cron: str) -> None:
        self.every = timedelta(minutes=every_minutes)
        self.sweep = timedelta(minutes=conversation_minutes)
        self.tick_gap = get_smallest_cron_interval(cron, "UTC")

    @property
    def relaxes(self) -> bool:
        """False when the relaxed cadences are no slower than the schedule itself."""
        return max(self.every, self.sweep) > self.tick_gap

    def relax(
        self, engine: sa.Engine, account_ids: Iterable[int], tick: datetime,
        sweeping: Collection[int] | None = None,
    ) -> Relaxed:  # fmt: skip
        """What this tick skips or holds back because the accounts' webhooks are healthy
        (`sweeping`: the accounts that sync messages at all; None: every account)."""
        if not self.relaxes:
            return Relaxed()
        health = webhook_health.webhook_health(engine, account_ids)
        healthy = [aid for aid, h in health.items() if h.healthy(tick)]
        if not healthy:
            return Relaxed()
        polled = _oldest(engine, RELAXED)
        swept = _oldest(engine, SWEPT)
        out = Relaxed()
        for aid in healthy:
            poll_due = webhook_health.relaxed_due(polled.get(aid), tick, self.every, self.tick_gap)
            sweep_due = (sweeping is None or aid in sweeping) and webhook_health.relaxed_due(
                swept.get(aid), tick, self.sweep, self.tick_gap
            )
            if not sweep_due:
                out.held[aid] = SWEPT
            if poll_due or sweep_due:
                continue
            synced = polled[aid]
            out.skipped[aid] = (
                f"{health[aid].describe(tick)}; incremental every {_minutes(self.every)} min, "
                f"conversations every {_minutes(self.sweep)} min while they are (last sync "
                f"{synced.isoformat(timespec='minutes')})"
            )
        return out


def _oldest(engine: sa.Engine, names: Iterable[str]) -> dict[int, datetime]:
    """Each account's oldest last successful sync of these streams."""
    last: dict[int, datetime] = {}
    for stream in names:
        for aid, at in last_successes(engine, stream).items():
            last[aid] = min(at, last.get(aid, at))
    return last


def _minutes(every: timedelta) -> int:
    return int(every.total_seconds() // 60)
