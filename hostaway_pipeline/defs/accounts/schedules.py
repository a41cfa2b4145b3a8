"""Incremental syncs often, full syncs rarely: one run per schedulable account per tick."""

from typing import Any

import dagster as dg

from hostaway_pipeline.accounts.ids import account_key
from hostaway_pipeline.accounts.repo import AccountInfo
from hostaway_pipeline.accounts.selection import entity_selection
from hostaway_pipeline.defs._support.tags import MODE_TAG, run_tags
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB, SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_asset_ops, sync_run_config
from hostaway_pipeline.defs.entities.due import DueSelection
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.defs.webhooks.cadence import SWEPT, Cadence, Relaxed
from hostaway_pipeline.egress.routing import egress_tags
from hostaway_pipeline.settings import Settings

INCREMENTAL_SCHEDULE = "hostaway_incremental_sync"
FULL_SCHEDULE = "hostaway_full_sync"
# Runs that have not begun syncing yet: they will read the watermark when they do.
PENDING = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
]


def run_mode(run: dg.DagsterRun) -> str:
    """The sync mode of a run: its tag, else its run config (runs launched from the UI)."""
    if run.tags.get(MODE_TAG):
        return run.tags[MODE_TAG]
    config: dict[str, Any] = dict(run.run_config)
    ops: dict[str, Any] = config.get("ops") or {}
    return str(ops.get(sync_asset_ops()[0], {}).get("config", {}).get("mode", "incremental"))


def pending_modes(instance: dg.DagsterInstance) -> dict[str, set[str]]:
    """Account key -> modes of its sync runs that are waiting to start."""
    pending: dict[str, set[str]] = {}
    for run in instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB_NAME, statuses=PENDING)):
        key = run.tags.get("dagster/partition")
        if key:
            pending.setdefault(key, set()).add(run_mode(run))
    return pending


def skip_reason(
    info: AccountInfo, mode: str, partitions: set[str], pending: dict[str, set[str]]
) -> str | None:
    """Why the account gets no `mode` run this tick, or None if it gets one."""
    key = account_key(info.account_id)
    if not info.active:
        return f"account {key}: disabled (`hostaway-pipeline accounts enable {key}` to resume)"
    if info.credentials_rejected:
        return (
            f"account {key}: Hostaway rejected its credentials; not scheduled until "
            f"`hostaway-pipeline accounts set-secret {key}`"
        )
    if key not in partitions:
        return f"account {key}: no partition yet (the account sensor adds it)"
    # A run that has not started will fetch everything this one would; queueing another behind
    # it only grows a backlog when syncs are slower than the schedule.
    waiting = pending.get(key, set())
    covering = "full" if "full" in waiting else mode if mode in waiting else None
    if covering is not None:
        return f"account {key}: a queued {covering} sync has not started yet and covers this one"
    return None


def build_sync_schedule(
    name: str, cron: str, mode: str, cadence: Cadence | None = None
) -> dg.ScheduleDefinition:
    """A schedule that requests a `mode` sync of every schedulable account (less, with a
    `cadence`, the accounts whose healthy webhooks relax it: see defs/webhooks/cadence.py)."""

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        job=SYNC_JOB,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"{mode.capitalize()} sync of every active account ({cron}, UTC); disabled "
        "accounts and accounts whose credentials Hostaway rejected are skipped.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext,
        warehouse: WarehouseResource,
        hostaway: HostawayResource,
    ) -> dg.SkipReason | list[dg.RunRequest]:
        partitions = set(context.instance.get_dynamic_partitions(ACCOUNTS_NAME))
        pending = pending_modes(context.instance)
        tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
        requests, skipped = [], []
        infos = warehouse.accounts().list_accounts()
        when = context.scheduled_execution_time
        relaxed = (
            cadence.relax(
                warehouse.get_engine(), [i.account_id for i in infos], when,
                sweeping=[
                    i.account_id for i in infos
                    if SWEPT & entity_selection(hostaway.entities, i)
                ],
            )
            if cadence
            else Relaxed()
        )  # fmt: skip
        # An incremental run asks only for what is due (a full run: everything).
        due = None
        if mode == "incremental":
            try:
                graph = context.repository_def.asset_graph
            except dg.DagsterInvariantViolationError:  # evaluated without its repository: all
                graph = None
            due = graph and DueSelection(warehouse.get_engine(), graph, when)
        routes = egress_tags(warehouse.get_engine(), infos)  # {} on a single machine
        for info in infos:
            key = account_key(info.account_id)
            reason = skip_reason(info, mode, partitions, pending) or relaxed.skipped.get(
                info.account_id
            )
            if reason is not None:
                context.log.info(reason)
                skipped.append(reason)
                continue
            chosen = entity_selection(hostaway.entities, info) - relaxed.held.get(
                info.account_id, frozenset()
            )
            subset = due.of(info.account_id, chosen) if due else None
            requests.append(
                dg.RunRequest(
                    run_key=f"{mode}:{key}:{tick}",
                    partition_key=key,
                    run_config=sync_run_config(mode, only=subset.steps if subset else None),
                    tags={**run_tags(key, mode, trigger=name), **routes.get(info.account_id, {})},
                    asset_selection=subset.assets if subset else None,
                    asset_check_keys=subset.checks if subset else None,
                )
            )
        if not requests:
            return dg.SkipReason("; ".join(skipped) or "no accounts registered")
        return requests

    return _schedule


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [
        build_sync_schedule(
            INCREMENTAL_SCHEDULE,
            settings.incremental_cron,
            "incremental",
            Cadence(
                settings.webhook_incremental_minutes,
                settings.webhook_conversation_minutes,
                settings.incremental_cron,
            ),
        ),
        build_sync_schedule(FULL_SCHEDULE, settings.full_cron, "full"),
    ]
