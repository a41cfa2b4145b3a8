"""Every job runs its steps in the run worker's process, however the run is launched."""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME


def test_every_job_including_the_uis_ad_hoc_asset_job_runs_in_process(
    defs: dg.Definitions,
) -> None:
    repo = defs.get_repository_def()
    names = {job.name for job in repo.get_all_jobs()}
    assert SYNC_JOB_NAME in names and any(n.startswith("__ASSET_JOB") for n in names)
    # The executor is part of the job definition, so the daemon's run launcher, the UI and
    # GraphQL all use it (a run's executor is not something its launcher chooses).
    executors = {name: defs.resolve_job_def(name).executor_def.name for name in names}
    assert set(executors.values()) == {"in_process"}, executors
