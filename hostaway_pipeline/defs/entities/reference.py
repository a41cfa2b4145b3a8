"""The global reference lists (countries, currencies, ...): one unpartitioned job, run daily.

They are the same for every account, so they are fetched once a day with one account's token
and stored once (account_id 0), not once per account. The schedule looks every hour and launches
a run only when the lists are due (never synced, or synced a day ago) and an account exists to
fetch them with: a new deployment gets them within the hour of its first account, and no empty
run is launched otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import GLOBAL_ACCOUNT, Scope
from hostaway_pipeline.defs.entities.assets import GLOBAL_GROUP
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.resources import WarehouseResource
from hostaway_pipeline.sync.engine import SyncMode, is_due

REFERENCE_JOB_NAME = "hostaway_reference_sync"
REFERENCE_SCHEDULE = "hostaway_reference_daily"

REFERENCE_JOB = dg.define_asset_job(
    REFERENCE_JOB_NAME,
    selection=dg.AssetSelection.groups(GLOBAL_GROUP),
    description="Sync the global reference lists once, with the lowest active account's token.",
    executor_def=dg.in_process_executor,
    config=sync_run_config("full", scope=Scope.GLOBAL),
    tags={"dagster/retry_on_asset_or_op_failure": "false"},
)


@dg.schedule(
    name=REFERENCE_SCHEDULE,
    job=REFERENCE_JOB,
    cron_schedule="17 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly look, daily sync of the global reference lists (one run, not one per "
    "account), as soon as an active account can fetch them.",
)
def reference_schedule(
    context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
) -> dg.SkipReason | dg.RunRequest:
    if not any(
        a.active and not a.credentials_rejected for a in warehouse.accounts().list_accounts()
    ):
        return dg.SkipReason("no active account to fetch the global reference lists with")
    engine, now = warehouse.get_engine(), datetime.now(UTC)
    due = [
        s.name for s in streams.STREAMS
        if s.scope is Scope.GLOBAL and is_due(engine, GLOBAL_ACCOUNT, s, SyncMode.INCREMENTAL, now)
    ]  # fmt: skip
    if not due:
        return dg.SkipReason("the global reference lists were synced within the last day")
    tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
    return dg.RunRequest(run_key=f"reference:{tick}", run_config=sync_run_config(
        "full", scope=Scope.GLOBAL))  # fmt: skip
