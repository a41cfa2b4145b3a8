"""The code location: assembles assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.defs.analytics import listing_monthly_stats
from hostaway_pipeline.defs.assets import SYNC_ASSETS
from hostaway_pipeline.defs.code_refs import with_code_references
from hostaway_pipeline.defs.freshness import (
    FRESHNESS_JOB,
    FRESHNESS_SCHEDULE_DEF,
    account_freshness,
)
from hostaway_pipeline.defs.jobs import SYNC_JOB
from hostaway_pipeline.defs.resources import resources_from_settings
from hostaway_pipeline.defs.schedules import build_schedules
from hostaway_pipeline.defs.sensors import account_sensor, record_sync_failure, record_sync_success
from hostaway_pipeline.settings import Settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions wired to `settings` (the environment by default); tests pass their own."""
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=with_code_references([*SYNC_ASSETS, listing_monthly_stats]),
        asset_checks=[account_freshness],
        jobs=[SYNC_JOB, FRESHNESS_JOB],
        schedules=[*build_schedules(settings), FRESHNESS_SCHEDULE_DEF],
        sensors=[account_sensor, record_sync_failure, record_sync_success],
        resources=resources_from_settings(settings),
    )


defs = build_definitions()
