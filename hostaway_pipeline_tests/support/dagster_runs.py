"""Dagster as the tests drive it: in-process runs, sensor and schedule ticks as the daemon does them.

Shared by the defs/ tests (and the tests of other folders that evaluate a sensor or a schedule).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from dagster._core.definitions.schedule_definition import ScheduleExecutionData
from dagster._core.definitions.sensor_definition import SensorExecutionData
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import CATALOG, Scope
from hostaway_pipeline.defs._support.tags import MODE_TAG
from hostaway_pipeline.defs.accounts.freshness import CHECK_NAME, FRESHNESS_JOB_NAME
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.warehouse.schema import accounts, sync_state
from hostaway_pipeline_tests.support.wiring import Wired

# The moment the schedule tests tick at.
TICK = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)
# Every asset an account's run materializes when everything is available and selected.
ACCOUNT_ASSETS = {f"hostaway/{s.name}" for s in CATALOG if s.scope is Scope.ACCOUNT} | {
    "hostaway/listing_monthly_stats",
    "hostaway/reservation_financials",
}
# Every account-partitioned catalog entity has its freshness evaluated (global lists: one run a day).
SYNC_ASSETS = tuple(s.name for s in streams.CATALOG if s.scope is streams.Scope.ACCOUNT)


def run(
    defs: dg.Definitions, instance: dg.DagsterInstance, account: int, mode: str
) -> dg.ExecuteInProcessResult:
    """The sync job of one account's partition, in process."""
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    return defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        run_config=sync_run_config(mode),
        instance=instance,
        partition_key=str(account),
        raise_on_error=False,
    )


def schedule_tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, name: str, when: datetime = TICK
) -> ScheduleExecutionData:
    """One evaluation as the daemon's code server does it (resources from the definitions)."""
    repo = defs.get_repository_def()
    schedule = repo.get_schedule_def(name)
    resources = {
        k: v
        for k, v in repo.get_top_level_resources().items()
        if k in schedule.required_resource_keys
    }
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=repo, resources=resources
    ) as context:
        data = schedule.evaluate_tick(context)
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    for request in data.run_requests or []:
        run_job = job
        if request.asset_selection is not None:  # the run the daemon would create: a subset
            run_job = job.get_subset(
                asset_selection=set(request.asset_selection),
                asset_check_selection=set(request.asset_check_keys or []),
            )
        assert dg.validate_run_config(run_job, request.run_config)
    return data


def queue_run(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    key: str,
    mode: str,
    tagged: bool = True,
    status: dg.DagsterRunStatus = dg.DagsterRunStatus.QUEUED,
) -> None:
    """A sync run waiting in the queue (`tagged=False`: launched from the UI, no hostaway tags)."""
    tags = {"dagster/partition": key} | ({MODE_TAG: mode} if tagged else {})
    # Queued runs must say where they come from (the daemon launches them from there).
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="hostaway_pipeline"))
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), SYNC_JOB_NAME)
    instance.create_run_for_job(
        defs.resolve_job_def(SYNC_JOB_NAME),
        run_config=sync_run_config(mode),
        tags=tags,
        status=status,
        remote_job_origin=origin,
    )


def tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, name: str, cursor: str | None = None
) -> SensorExecutionData:
    """One evaluation as the daemon's code server does it, then its partition changes applied."""
    repo = defs.get_repository_def()
    sensor = repo.get_sensor_def(name)
    top_level = repo.get_top_level_resources()
    resources = {k: v for k, v in top_level.items() if k in sensor.required_resource_keys}
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(), cursor=cursor, definitions=defs, resources=resources
    ) as context:
        data = sensor.evaluate_tick(context)
    for request in data.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(ACCOUNTS_NAME, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(ACCOUNTS_NAME, key)
    return data


def account_tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None = None
) -> tuple[list[dg.RunRequest], str | None, str | None]:
    """One tick of the account sensor: its run requests (checked against the job), cursor, skip."""
    data = tick(defs, instance, "account_sensor", cursor)
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    for request in data.run_requests or []:
        assert dg.validate_run_config(job, request.run_config)
    return list(data.run_requests or []), data.cursor, data.skip_message


def run_request(
    defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest
) -> dg.ExecuteInProcessResult:
    """Execute a sensor's run request in process, with its partition, config and tags."""
    assert request.partition_key is not None
    return defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        run_config=request.run_config,
        instance=instance,
        partition_key=request.partition_key,
        tags=dict(request.tags),
        raise_on_error=False,
    )


def evaluate(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> dict[str, dg.AssetCheckEvaluation]:
    """The freshness job's check evaluations, by entity."""
    result = defs.resolve_job_def(FRESHNESS_JOB_NAME).execute_in_process(instance=instance)
    assert result.success
    evaluations = {
        e.asset_key.path[-1]: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == CHECK_NAME
    }
    assert set(evaluations) == set(SYNC_ASSETS)
    return evaluations


def registered(wired: Wired, account: int, by: timedelta) -> None:
    """Pretend the account was registered `by` ago."""
    with wired.engine.begin() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.account_id == account)
            .values(created_at=datetime.now(UTC) - by)
        )


def age(wired: Wired, account: int, stream: str, by: timedelta) -> None:
    """Pretend the account's last successful sync of `stream` ended `by` ago."""
    with wired.engine.begin() as conn:
        conn.execute(
            sa.update(sync_state)
            .where(sync_state.c.account_id == account, sync_state.c.stream == stream)
            .values(last_finished_at=datetime.now(UTC) - by)
        )
