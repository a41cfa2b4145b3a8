"""The main job: every account-partitioned asset, run for one account per run."""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.defs.freshness import account_freshness

SYNC_JOB_NAME = "hostaway_sync"

SYNC_JOB = dg.define_asset_job(
    SYNC_JOB_NAME,
    # The freshness check covers every account at once; it runs in its own job (defs/freshness.py).
    selection=dg.AssetSelection.groups("hostaway") - dg.AssetSelection.checks(account_freshness),
    description="Sync one account (a partition): listings, reservations, conversations and messages, "
    "then the monthly listing stats. Set the sync mode per asset in the run config.",
    # A step that failed already retried what was transient (the assets' RetryPolicy); re-running the whole
    # run would only repeat a real error such as rejected credentials. Set here so it holds
    # whatever the instance's (or a Helm chart's) run_retries default renders.
    tags={"dagster/retry_on_asset_or_op_failure": "false"},
)
