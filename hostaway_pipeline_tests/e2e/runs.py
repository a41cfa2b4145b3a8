"""What the e2e tests read of the instance's runs, and how long they wait for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.storage.dagster_run import RunRecord

from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME

if TYPE_CHECKING:
    from hostaway_pipeline_tests.e2e.conftest import Deployment

# Waits for runs: a sync run takes 1-3 min on a loaded 2-CPU machine, and one account's runs queue.
RUNS_S = 480
# The CLI's run waits behind every queued run of its account (the schedule adds one a minute here).
QUEUE_S = 1500
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def runs(deployment: Deployment, **tags: str) -> list[RunRecord]:
    """Sync runs with these tags, oldest first."""
    filters = dg.RunsFilter(job_name=SYNC_JOB_NAME, tags=tags)
    return sorted(deployment.instance.get_run_records(filters), key=lambda r: r.create_timestamp)


def finished(records: list[RunRecord]) -> list[RunRecord] | None:
    return records if records and all(r.dagster_run.status in DONE for r in records) else None


def assert_succeeded(deployment: Deployment, records: list[RunRecord]) -> None:
    failed = [
        r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS
    ]
    assert not failed, f"runs failed: {failed}\n{deployment.logs()}"
