"""The request budget's Dagster side: recorded costs from the instance, ticks from the schedules.

The arithmetic is in `hostaway_pipeline/accounts/budget.py`; this module only reads what Dagster recorded
(each sync materialization's `api_requests` and `mode`, per account partition) and when the
schedules fire.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.accounts.budget import (
    FULL,
    INCREMENTAL,
    Budget,
    Cost,
    Limits,
    Tick,
    entity_budget,
)
from hostaway_pipeline.accounts.ids import account_key
from hostaway_pipeline.catalog import Scope, StreamSpec
from hostaway_pipeline.defs._support.private import cron_string_iterator
from hostaway_pipeline.defs.entities.assets import asset_key
from hostaway_pipeline.defs.entities.reference import reference_schedule
from hostaway_pipeline.settings import Settings

PAGE = 1000
# Simulated schedule days: the first week only settles when each entity was last synced.
SIMULATED_DAYS = 14


def recorded_costs(
    instance: dg.DagsterInstance, spec: StreamSpec, account_id: int, since: datetime
) -> Iterator[Cost]:
    """Every materialization of `spec`'s asset for the account (or the global one) since then."""
    partitions = None if spec.scope is Scope.GLOBAL else [account_key(account_id)]
    records_filter = dg.AssetRecordsFilter(
        asset_key=asset_key(spec), asset_partitions=partitions, after_timestamp=since.timestamp()
    )
    cursor = None
    while True:
        page = instance.fetch_materializations(records_filter, limit=PAGE, cursor=cursor)
        for record in page.records:
            mat = record.asset_materialization
            if mat is None:
                continue
            meta = {k: v.value for k, v in mat.metadata.items()}
            requests, mode = meta.get("api_requests"), meta.get("mode")
            if isinstance(requests, int) and mode in (FULL, INCREMENTAL):
                at = datetime.fromtimestamp(record.timestamp, UTC)
                fetched = meta.get("records_fetched")
                initial = mode == FULL and bool(fetched) and meta.get("inserted") == fetched
                yield Cost(spec.name, str(mode), requests, at, initial)
        if not page.has_more:
            return
        cursor = page.cursor


def ticks(cron: str, mode: str, start: datetime, days: int) -> list[Tick]:
    """The schedule's ticks (UTC) in `days` days from `start`."""
    end = start + timedelta(days=days)
    out: list[Tick] = []
    for at in cron_string_iterator(start.timestamp(), cron, "UTC"):
        if at >= end:
            return out
        out.append((at.astimezone(UTC), mode))
    return out


def schedule_ticks(settings: Settings, start: datetime) -> dict[Scope, list[Tick]]:
    """The sync schedules of accounts (incremental and full) and of the global lists."""
    account = ticks(settings.incremental_cron, INCREMENTAL, start, SIMULATED_DAYS) + ticks(
        settings.full_cron, FULL, start, SIMULATED_DAYS
    )
    # The global lists' schedule looks every hour and launches a run when they are due: a
    # cadence-gated sync (recorded with mode "full", which costs the same for a whole list).
    cron = str(reference_schedule.cron_schedule)
    return {Scope.ACCOUNT: account, Scope.GLOBAL: ticks(cron, INCREMENTAL, start, SIMULATED_DAYS)}


def account_budget(
    instance: dg.DagsterInstance,
    settings: Settings,
    account_id: int,
    days: int = 7,
    entities: Collection[str] | None = None,
    now: datetime | None = None,
) -> Budget:
    """The account's budget over the last `days` for `entities` (names; default: every one)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    chosen = {s.name for s in streams.CATALOG} if entities is None else set(entities)
    specs = [s for s in streams.CATALOG if s.name in chosen and s.standalone]
    costs = [c for spec in specs for c in recorded_costs(instance, spec, account_id, since)]
    limits = Limits(
        settings.rate_limit_per_ip, settings.rate_limit_per_account, settings.rate_limit_window_s
    )
    # A fixed Monday midnight: the simulated ticks do not depend on when the command runs.
    start = datetime(2026, 1, 5, tzinfo=UTC)
    return entity_budget(
        account_id, streams.CATALOG, chosen, costs, limits, schedule_ticks(settings, start), days
    )
