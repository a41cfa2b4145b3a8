"""A bounded instance: runs older than the retention are deleted with their event logs and logs.

Each account-run adds ~60 event-log rows and its compute log; 48 incremental runs per account a
day would otherwise grow Dagster's database forever. An hourly job deletes finished runs last
updated more than HOSTAWAY_INSTANCE_RETENTION_DAYS (default 30) ago, except any run that holds the
latest materialization of some asset partition: the UI, the partition status and freshness read
those, so every account keeps its newest materialization of every asset however old it is.
Schedule and sensor ticks are bounded by `retention` in dagster.yaml, not here.
"""

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

import dagster as dg

from hostaway_pipeline.settings import SettingsError

RETENTION_ENV = "HOSTAWAY_INSTANCE_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 30
CLEANUP_JOB_NAME = "hostaway_instance_cleanup"
CLEANUP_SCHEDULE = "hostaway_instance_cleanup_hourly"
FINISHED = [
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
]
_PAGE = 500


def retention_days(env: Mapping[str, str] | None = None) -> int:
    """Days of runs to keep, from HOSTAWAY_INSTANCE_RETENTION_DAYS (a positive integer)."""
    env = os.environ if env is None else env
    value = env.get(RETENTION_ENV) or str(DEFAULT_RETENTION_DAYS)
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(
            f"{RETENTION_ENV}={value!r} is not a positive whole number of days, e.g. "
            f"{DEFAULT_RETENTION_DAYS}"
        )
    return int(value)


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def protected_run_ids(instance: dg.DagsterInstance) -> set[str]:
    """Runs holding the latest materialization of any asset, or of any partition of one."""
    keep: set[str] = set()
    for key in instance.get_asset_keys():
        latest = instance.get_latest_materialization_event(key)
        if latest is not None:
            keep.add(latest.run_id)
        by_partition = instance.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION
        )
        for ids in _chunks(sorted(by_partition.values()), _PAGE):
            found = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, storage_ids=ids), limit=len(ids)
            )
            keep.update(record.run_id for record in found.records)
    return keep


def _old_finished_runs(instance: dg.DagsterInstance, before: datetime) -> list[str]:
    """Ids of finished runs last updated before `before`, newest first (read before deleting)."""
    ids: list[str] = []
    cursor = None
    while True:
        page = instance.get_run_ids(
            dg.RunsFilter(statuses=FINISHED, updated_before=before), cursor=cursor, limit=_PAGE
        )
        ids.extend(page)
        if len(page) < _PAGE:
            return ids
        cursor = page[-1]


@dataclass
class CleanupReport:
    deleted_runs: int = 0
    kept_latest: int = 0  # old runs kept because they hold a partition's latest materialization
    log_errors: int = 0  # runs whose compute logs could not be deleted (the run still was)


def _delete_check_executions(instance: dg.DagsterInstance, run_id: str) -> None:
    """Asset check rows are not removed by `delete_run`; without this they would pile up."""
    from hostaway_pipeline.defs._support import private

    AssetCheckExecutionsTable = private.AssetCheckExecutionsTable
    SqlEventLogStorage = private.SqlEventLogStorage

    storage = instance.event_log_storage
    if isinstance(storage, SqlEventLogStorage) and storage.has_table("asset_check_executions"):
        with storage.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.delete().where(
                    AssetCheckExecutionsTable.c.run_id == run_id
                )
            )


def clean_instance(
    instance: dg.DagsterInstance, keep_days: int, now: datetime | None = None
) -> CleanupReport:
    """Delete finished runs older than `keep_days` (event log, check rows, compute logs), keeping
    every run that holds some asset partition's latest materialization."""
    before = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    candidates = _old_finished_runs(instance, before)
    keep = protected_run_ids(instance) if candidates else set()
    report = CleanupReport()
    logs = instance.compute_log_manager
    for run_id in candidates:
        if run_id in keep:
            report.kept_latest += 1
            continue
        try:
            logs.delete_logs(prefix=[run_id])
        except (NotImplementedError, OSError):
            report.log_errors += 1
        _delete_check_executions(instance, run_id)
        instance.delete_run(run_id)  # the run, its tags and its event log
        report.deleted_runs += 1
    return report


def build_cleanup(keep_days: int) -> tuple[dg.JobDefinition, dg.ScheduleDefinition]:
    """The cleanup job (in process: it is one op) and its hourly schedule."""

    @dg.op(name="delete_old_runs")
    def delete_old_runs(context: dg.OpExecutionContext) -> None:
        report = clean_instance(context.instance, keep_days)
        context.log.info(
            f"deleted {report.deleted_runs} run(s) older than {keep_days} day(s) with their event "
            f"logs and compute logs; kept {report.kept_latest} old run(s) holding a partition's "
            f"latest materialization"
        )
        if report.log_errors:
            context.log.warning(
                f"the compute logs of {report.log_errors} deleted run(s) could not be removed by "
                f"this instance's compute log manager; remove them from its storage by hand"
            )

    @dg.job(
        name=CLEANUP_JOB_NAME,
        executor_def=dg.in_process_executor,
        description=f"Deletes runs older than {keep_days} day(s) ({RETENTION_ENV}) with their "
        "event logs and compute logs, keeping every partition's latest materialization.",
        tags={"dagster/retry_on_asset_or_op_failure": "false"},
    )
    def cleanup_job() -> None:
        delete_old_runs()

    schedule = dg.ScheduleDefinition(
        name=CLEANUP_SCHEDULE,
        job=cleanup_job,
        cron_schedule="17 * * * *",  # hourly, so each run deletes about an hour's worth of runs
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return cleanup_job, schedule
