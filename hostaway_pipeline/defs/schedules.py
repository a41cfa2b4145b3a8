"""Incremental syncs often, full syncs rarely: one run per active account partition per tick."""

from collections.abc import Iterator

import dagster as dg

from hostaway_pipeline.defs.config import sync_run_config
from hostaway_pipeline.defs.jobs import SYNC_JOB
from hostaway_pipeline.defs.partitions import ACCOUNTS_NAME
from hostaway_pipeline.defs.resources import WarehouseResource
from hostaway_pipeline.defs.tags import run_tags
from hostaway_pipeline.settings import Settings


def build_sync_schedule(name: str, cron: str, mode: str) -> dg.ScheduleDefinition:
    """A schedule that requests a `mode` sync of every schedulable account."""

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        job=SYNC_JOB,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"{mode.capitalize()} sync of every active account ({cron}, UTC).",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
    ) -> Iterator[dg.RunRequest]:
        partitions = set(context.instance.get_dynamic_partitions(ACCOUNTS_NAME))
        tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
        for info in warehouse.accounts().list_accounts():
            key = str(info.account_id)
            if not info.active:
                context.log.info(f"account {key}: disabled, not scheduled")
            elif info.credentials_rejected:
                context.log.info(
                    f"account {key}: Hostaway rejected its credentials; not scheduled until "
                    f"`hostaway-pipeline accounts set-secret {key}`"
                )
            elif key not in partitions:
                context.log.info(f"account {key}: no partition yet (the account sensor adds it)")
            else:
                yield dg.RunRequest(
                    run_key=f"{mode}:{key}:{tick}",
                    partition_key=key,
                    run_config=sync_run_config(mode),
                    tags=run_tags(key, mode, trigger=name),
                )

    return _schedule


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [
        build_sync_schedule("hostaway_incremental_sync", settings.incremental_cron, "incremental"),
        build_sync_schedule("hostaway_full_sync", settings.full_cron, "full"),
    ]
