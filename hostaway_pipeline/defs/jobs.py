"""The main job: every account-partitioned asset, run for one account per run."""

from __future__ import annotations

import dagster as dg

SYNC_JOB_NAME = "hostaway_sync"

SYNC_JOB = dg.define_asset_job(
    SYNC_JOB_NAME,
    selection=dg.AssetSelection.groups("hostaway"),
    description="Sync one account (a partition): listings, reservations, conversations and messages, "
    "then the monthly listing stats. Set the sync mode per asset in the run config.",
)
