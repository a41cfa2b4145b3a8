"""The main job: every account-partitioned asset, run for one account per run, in one process.

Why in process: a run's steps are serialised by the account's API budget anyway (15 requests per
10 s per IP, shared by every run), and each of a quiet incremental's steps does ~0.1 s of work. The
multiprocess executor started a Python process per step, each importing Dagster and this project
again (~2-3 CPU-s each): ~21.6 CPU-s per quiet account-run. In process, the run worker pays the
import once. The executor is set on the job itself, so runs launched by the daemon (schedules,
sensors), the UI, GraphQL and the CLI all get it. Steps still fail, retry and materialize one by
one; a failed step fails its run only, and each account is its own run (see README, Performance).
"""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.defs._support.names import SYNC_JOB_NAME

SYNC_JOB = dg.define_asset_job(
    SYNC_JOB_NAME,
    # With every check of those assets: the per-account freshness and quiet-webhook checks are
    # evaluated after the run's materializations (for its assets only: they can be subset), so
    # the UI shows all of an asset's checks for its latest materialization; their own job
    # (defs/accounts/freshness.py) still evaluates every asset every 10 minutes. (A failed step in
    # such a run once left Dagster 1.13.27's executor spinning: defs/_support/plan_fix.py.)
    selection=dg.AssetSelection.groups("hostaway"),
    description="Sync one account (a partition): listings, reservations, conversations and messages, "
    "then the monthly listing stats. Set the sync mode per asset in the run config.",
    executor_def=dg.in_process_executor,
    # A step that failed already retried what was transient (the assets' RetryPolicy); re-running the whole
    # run would only repeat a real error such as rejected credentials. Set here so it holds
    # whatever the instance's (or a Helm chart's) run_retries default renders.
    tags={"dagster/retry_on_asset_or_op_failure": "false"},
)
