"""The instance cleanup, through real Dagster runs on a PostgreSQL-backed instance."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.defs.maintenance.cleanup import (
    CLEANUP_JOB_NAME,
    CLEANUP_SCHEDULE,
    clean_instance,
    retention_days,
)
from hostaway_pipeline.settings import SettingsError

PARTITIONS = dg.StaticPartitionsDefinition(["a", "b"])


@dg.asset(partitions_def=PARTITIONS)
def toy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    print(f"compute log line of {context.run.run_id}")  # lands in the run's compute log
    return dg.MaterializeResult(metadata={"run": context.run.run_id})


@dg.asset_check(asset=toy)
def toy_ok() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture
def pg_instance(pg_url: str) -> Iterator[dg.DagsterInstance]:
    base = sa.make_url(pg_url)
    url = base.set(drivername="postgresql+psycopg2", database=f"{base.database}_cleanup_dagster")
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    storage = {"postgres": {"postgres_url": url.render_as_string(hide_password=False)}}
    with dg.instance_for_test(overrides={"storage": storage}) as instance:
        yield instance


def _materialize(instance: dg.DagsterInstance, partition: str) -> str:
    result = dg.materialize([toy, toy_ok], partition_key=partition, instance=instance)
    assert result.success
    return result.run_id


def _log_dir(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.compute_log_manager._base_dir) / run_id  # type: ignore[attr-defined]


def _check_rows(instance: dg.DagsterInstance) -> set[str]:
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

    with instance.event_log_storage.index_connection() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(sa.select(AssetCheckExecutionsTable.c.run_id)).all()
    return {row[0] for row in rows}


def test_cleanup_keeps_each_partitions_latest_materialization_and_deletes_the_rest(
    pg_instance: dg.DagsterInstance,
) -> None:
    old_a = [_materialize(pg_instance, "a") for _ in range(3)]
    old_b = [_materialize(pg_instance, "b") for _ in range(2)]
    old = old_a + old_b
    assert all(_log_dir(pg_instance, r).is_dir() for r in old)  # compute logs exist to delete
    latest_at = max(pg_instance.get_run_record_by_id(r).update_timestamp for r in old)  # type: ignore[union-attr]
    recent = _materialize(pg_instance, "a")  # newer than the cutoff below: kept
    # "Now" is 30 days after the old runs, so they are past a 30-day retention and `recent`,
    # finished later, is not; the newest materialization of "a" is then `recent`'s.
    now = latest_at.replace(tzinfo=latest_at.tzinfo or UTC) + timedelta(days=30, microseconds=1)
    assert pg_instance.get_run_record_by_id(recent).update_timestamp.replace(tzinfo=UTC) > (  # type: ignore[union-attr]
        now - timedelta(days=30)
    )

    report = clean_instance(pg_instance, keep_days=30, now=now)

    remaining = set(pg_instance.get_run_ids())
    # a: its latest materialization is in `recent` (young anyway), so every old run of a goes;
    # b: its last old run holds b's latest materialization and stays however old it is.
    assert remaining == {recent, old_b[-1]}
    assert report.deleted_runs == 4 and report.kept_latest == 1 and report.log_errors == 0
    for run_id in set(old) - remaining:
        assert not pg_instance.all_logs(run_id), "event log rows of a deleted run remain"
        assert not _log_dir(pg_instance, run_id).exists(), "compute logs of a deleted run remain"
    assert _log_dir(pg_instance, old_b[-1]).is_dir() and _log_dir(pg_instance, recent).is_dir()
    assert _check_rows(pg_instance) == {recent, old_b[-1]}
    # What the UI and the partition status read is intact.
    assert pg_instance.get_materialized_partitions(toy.key) == {"a", "b"}
    latest = pg_instance.get_latest_storage_id_by_partition(
        toy.key, dg.DagsterEventType.ASSET_MATERIALIZATION
    )
    records = pg_instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=toy.key, storage_ids=list(latest.values())), limit=2
    ).records
    assert {r.partition_key: r.run_id for r in records} == {"a": recent, "b": old_b[-1]}

    # Nothing left to do: a second pass deletes nothing.
    again = clean_instance(pg_instance, keep_days=30, now=now)
    assert again.deleted_runs == 0 and again.kept_latest == 1


def test_cleanup_never_deletes_a_run_younger_than_the_retention(
    pg_instance: dg.DagsterInstance,
) -> None:
    runs = [_materialize(pg_instance, "a") for _ in range(2)]
    report = clean_instance(pg_instance, keep_days=1, now=datetime.now(UTC))
    assert report.deleted_runs == 0
    assert set(pg_instance.get_run_ids()) == set(runs)


def test_the_cleanup_job_is_scheduled_and_runs_in_the_definitions(
    defs: dg.Definitions, pg_instance: dg.DagsterInstance
) -> None:
    first = _materialize(pg_instance, "b")
    schedule = defs.get_repository_def().get_schedule_def(CLEANUP_SCHEDULE)
    assert schedule.job_name == CLEANUP_JOB_NAME
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    job = defs.resolve_job_def(CLEANUP_JOB_NAME)
    assert job.executor_def.name == "in_process"
    result = job.execute_in_process(instance=pg_instance)
    assert result.success
    assert first in pg_instance.get_run_ids()  # young: kept
    messages = [e.user_message for e in pg_instance.all_logs(result.run_id)]
    assert any("deleted 0 run(s) older than 30 day(s)" in m for m in messages), messages


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "1.5"])
def test_a_bad_retention_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="HOSTAWAY_INSTANCE_RETENTION_DAYS"):
        retention_days({"HOSTAWAY_INSTANCE_RETENTION_DAYS": value})
    assert retention_days({}) == 30
    assert retention_days({"HOSTAWAY_INSTANCE_RETENTION_DAYS": "7"}) == 7
