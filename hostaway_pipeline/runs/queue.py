"""`hostaway-pipeline sync` through the instance's run queue, when a daemon serves the instance.

Queued runs carry the same tags as the schedules' (`dagster/partition` = the account), so the
one-run-per-account limit in dagster.yaml holds between CLI, schedule, sensor and UI runs, and
the daemon launches them with the same executor, retries and run monitoring.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from hostaway_pipeline.catalog import GLOBAL_ACCOUNT, Scope
from hostaway_pipeline.defs._support import private
from hostaway_pipeline.defs._support.tags import TRIGGER_TAG, run_tags
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import run_mode_tag, sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.defs.entities.reference import REFERENCE_JOB_NAME
from hostaway_pipeline.runs.runner import AccountRun, outcome_from_instance

# The run queue's daemon writes a heartbeat every 30 s; three missed ones mean nobody dequeues.
HEARTBEAT_TOLERANCE_S = 90.0
QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"
# The code location's name in workspace.yaml: the daemon finds the job of a queued run by it.
LOCATION = "hostaway_pipeline"
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def daemon_serves(instance: dg.DagsterInstance, now: float | None = None) -> bool:
    """Whether a dagster-daemon has recently worked this instance's run queue."""
    beat = instance.get_daemon_heartbeats().get(QUEUE_DAEMON)
    now = time.time() if now is None else now
    return beat is not None and now - beat.timestamp < HEARTBEAT_TOLERANCE_S


def _target() -> private.InProcessWorkspaceLoadTarget:
    """The code location the daemon finds queued runs' jobs in (workspace.yaml's), loaded in this
    process: the command only reads the job's snapshot and plan from it, and the daemon finds the
    location by its name and launches the run on its own code server. (A code server of its own
    cost each `sync` a Python process importing Dagster and the project: ~3 CPU-s and seconds.)"""
    return private.InProcessWorkspaceLoadTarget(
        [
            private.InProcessCodeLocationOrigin(
                private.LoadableTargetOrigin(
                    executable_path=sys.executable,
                    module_name="hostaway_pipeline.definitions",
                    attribute="defs",
                    working_directory=str(Path.cwd()),
                ),
                location_name=LOCATION,
            )
        ]
    )


def _create_run(
    instance: dg.DagsterInstance, context: private.WorkspaceProcessContext, account: str | None,
    mode: str, lookback_minutes: int, extra_tags: Mapping[str, str] | None = None,
) -> dg.DagsterRun:  # fmt: skip
    """A queued run of one account's sync job, or (account None) of the global lists' job."""
    workspace = context.create_request_context()
    location = workspace.get_code_location(LOCATION)
    repo = next(iter(location.get_repositories().values()))
    job_name = SYNC_JOB_NAME if account is not None else REFERENCE_JOB_NAME
    remote_job: private.RemoteJob = repo.get_full_job(job_name)
    if account is None:
        run_config = sync_run_config("full", scope=Scope.GLOBAL)
        tags = {**remote_job.tags, TRIGGER_TAG: "cli"}
    else:
        run_config = sync_run_config(mode, lookback_minutes)
        tags = {
            **remote_job.tags,
            **run_tags(account, run_mode_tag(mode), trigger="cli"),
            **(extra_tags or {}),  # the egress route (egress/routing.py)
            "dagster/partition": account,
        }
    plan = location.get_execution_plan(
        remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=instance
    )
    return instance.create_run(
        job_name=job_name,
        run_id=None,
        run_config=run_config,
        resolved_op_selection=None,
        step_keys_to_execute=None,
        op_selection=None,
        status=None,
        root_run_id=None,
        parent_run_id=None,
        tags=tags,
        job_snapshot=remote_job.job_snapshot,
        execution_plan_snapshot=plan.execution_plan_snapshot,
        parent_job_snapshot=remote_job.parent_job_snapshot,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        asset_selection=None,
        asset_check_selection=None,
        asset_graph=repo.asset_graph,
    )


def queue_sync(
    instance: dg.DagsterInstance,
    account_ids: list[int],
    mode: str,
    lookback_minutes: int = 60,
    tags_of: Mapping[int, Mapping[str, str]] | None = None,
    submit: bool = True,
    global_lists: bool = False,
) -> dict[int, str]:
    """Queue one run per account (with `tags_of` its extra tags) and, with `global_lists`, one
    of the global lists (account 0); account -> run id. With `submit=False` the runs are only
    created (NOT_STARTED), for a caller that executes them itself (the benchmark of a process per
    run)."""
    existing = set(instance.get_dynamic_partitions(ACCOUNTS_NAME))
    new = [str(a) for a in account_ids if str(a) not in existing]
    if new:
        instance.add_dynamic_partitions(ACCOUNTS_NAME, new)
    run_ids: dict[int, str] = {}
    with private.WorkspaceProcessContext(instance, _target()) as context:
        queued = ([GLOBAL_ACCOUNT] if global_lists else []) + list(account_ids)
        for account_id in queued:
            account = None if account_id == GLOBAL_ACCOUNT else str(account_id)
            extra = (tags_of or {}).get(account_id, {})
            run = _create_run(instance, context, account, mode, lookback_minutes, extra)
            if submit:
                instance.submit_run(run.run_id, context.create_request_context())
            run_ids[account_id] = run.run_id
    return run_ids


def submit_sync(
    instance: dg.DagsterInstance,
    account_ids: list[int],
    mode: str,
    lookback_minutes: int = 60,
    poll_s: float = 1.0,
    global_lists: bool = False,
    tags_of: Mapping[int, Mapping[str, str]] | None = None,
) -> list[AccountRun]:
    """Queue one run per account (and, with `global_lists`, one of the global lists, reported as
    account 0), wait for all of them, and report each."""
    run_ids = queue_sync(
        instance, account_ids, mode, lookback_minutes, tags_of, global_lists=global_lists
    )
    pending = set(run_ids.values())
    while pending:
        time.sleep(poll_s)
        for run_id in list(pending):
            current = instance.get_run_by_id(run_id)
            if current is not None and current.status in DONE:
                pending.discard(run_id)
    return [outcome_from_instance(instance, a, run_id) for a, run_id in run_ids.items()]
