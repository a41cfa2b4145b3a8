"""Polling as the safety net: accounts whose webhooks are healthy get a relaxed incremental cadence.

The incremental schedule still ticks on its cron for every account; an account whose webhooks
are healthy (`warehouse/webhook_health.py`: registered, an event within a day, no change missed)
is skipped until its last successful sync is HOSTAWAY_WEBHOOK_INCREMENTAL_MINUTES old (default
60). The moment polling finds changes the webhooks should have carried, the account is unhealthy
and back on the normal cadence at the next tick; the `webhooks_quiet` check says so. Full syncs
are never relaxed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from dagster._utils.schedules import get_smallest_cron_interval

from hostaway_pipeline import streams
from hostaway_pipeline.warehouse import webhook_health
from hostaway_pipeline.warehouse.freshness import last_successes

# An incremental syncs all of these; the oldest last success is the account's last sync.
SYNCED = (streams.LISTINGS.name, streams.RESERVATIONS.name, streams.MESSAGES.name)


class Cadence:
    """The relaxed cadence of one incremental schedule (built once with the definitions)."""

    def __init__(self, every_minutes: int, cron: str) -> None:
        self.every = timedelta(minutes=every_minutes)
        self.tick_gap = get_smallest_cron_interval(cron, "UTC")

    @property
    def relaxes(self) -> bool:
        """False when the relaxed cadence is no slower than the schedule itself."""
        return self.every > self.tick_gap

    def skips(
        self, engine: sa.Engine, account_ids: Iterable[int], tick: datetime
    ) -> dict[int, str]:
        """Accounts this tick skips because their webhooks are healthy, with the reason."""
        if not self.relaxes:
            return {}
        health = webhook_health.webhook_health(engine, account_ids)
        healthy = [aid for aid, h in health.items() if h.healthy(tick)]
        if not healthy:
            return {}
        last: dict[int, datetime] = {}
        for stream in SYNCED:
            for aid, at in last_successes(engine, stream).items():
                last[aid] = min(at, last.get(aid, at))
        skipped = {}
        minutes = int(self.every.total_seconds() // 60)
        for aid in healthy:
            synced = last.get(aid)
            if webhook_health.relaxed_due(synced, tick, self.every, self.tick_gap):
                continue
            assert synced is not None
            skipped[aid] = (
                f"{health[aid].describe(tick)}; incremental every {minutes} min while they are "
                f"(last sync {synced.isoformat(timespec='minutes')})"
            )
        return skipped
