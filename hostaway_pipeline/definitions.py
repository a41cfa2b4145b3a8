"""The code location: assembles assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import warnings

import dagster as dg

from hostaway_pipeline.defs._support.code_refs import with_code_references
from hostaway_pipeline.defs.accounts.freshness import (
    FRESHNESS_JOB,
    FRESHNESS_SCHEDULE_DEF,
    account_freshness,
)
from hostaway_pipeline.defs.accounts.sensors import (
    account_sensor,
    record_sync_failure,
    record_sync_success,
)
from hostaway_pipeline.defs.entities.assets import build_sync_assets
from hostaway_pipeline.defs.entities.jobs import SYNC_JOB
from hostaway_pipeline.defs.entities.reference import REFERENCE_JOB, reference_schedule
from hostaway_pipeline.defs.entities.schedules import build_schedules
from hostaway_pipeline.defs.maintenance.cleanup import build_cleanup, retention_days
from hostaway_pipeline.defs.marts.assets import MARTS
from hostaway_pipeline.defs.resources import resources_from_settings
from hostaway_pipeline.defs.webhooks.checks import webhooks_quiet
from hostaway_pipeline.defs.webhooks.sensor import webhook_job, webhook_sensor
from hostaway_pipeline.settings import Settings

# Dagster 1.13.27 rebuilds every sensor when it resolves the repository
# (`SensorDefinition.with_updated_jobs` passes `owners=` even when None) and so warns that a
# parameter nobody set is in beta, on every command's stderr. Only that message is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `owners` of initializer `SensorDefinition",
    category=dg.BetaWarning,
)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions wired to `settings` (the environment by default); tests pass their own."""
    settings = settings or Settings.from_env()
    cleanup_job, cleanup_schedule = build_cleanup(retention_days())
    return dg.Definitions(
        assets=with_code_references([*build_sync_assets(), *MARTS]),
        asset_checks=[account_freshness, webhooks_quiet],
        jobs=[SYNC_JOB, REFERENCE_JOB, FRESHNESS_JOB, cleanup_job, webhook_job],
        schedules=[
            *build_schedules(settings),
            reference_schedule,
            FRESHNESS_SCHEDULE_DEF,
            cleanup_schedule,
        ],
        sensors=[account_sensor, record_sync_failure, record_sync_success, webhook_sensor],
        resources=resources_from_settings(settings),
        # Every job runs its steps in the run worker's process unless it says otherwise, also
        # the UI's ad-hoc asset materializations (see defs/entities/jobs.py for why).
        executor=dg.in_process_executor,
    )


defs = build_definitions()
