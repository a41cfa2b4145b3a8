"""The global reference lists (countries, currencies, ...): one unpartitioned job, run daily.

They are the same for every account, so they are fetched once a day with one account's token
and stored once (account_id 0), not once per account.
"""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.defs.assets import GLOBAL_GROUP
from hostaway_pipeline.defs.config import sync_run_config
from hostaway_pipeline.streams import Scope

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

REFERENCE_SCHEDULE_DEF = dg.ScheduleDefinition(
    name=REFERENCE_SCHEDULE,
    job=REFERENCE_JOB,
    cron_schedule="30 2 * * *",  # before the nightly full syncs, off the half-hour ticks' peak
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily sync of the global reference lists (one run, not one per account).",
)
