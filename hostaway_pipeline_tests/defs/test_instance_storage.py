"""The instance storage of dagster.yaml keeps PostgreSQL connections open across queries.

Runs on real Dagster instances on the real PostgreSQL; connections are counted as SQLAlchemy
pools open them (the `connect` event fires once per new database connection).
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.runs import instance_storage
from hostaway_pipeline.runs.instance_storage import PooledPostgresStorage
from hostaway_pipeline_tests.support.checkout import dotenv_turn

REPO_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"
PARTITIONS = dg.StaticPartitionsDefinition(["a", "b", "c"])


@dg.asset(partitions_def=PARTITIONS)
def toy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    context.log.info("a line in the event log")
    return dg.MaterializeResult(metadata={"run": context.run.run_id})


@pytest.fixture
def instance_db(pg_url: str) -> str:
    """A fresh, empty database for a Dagster instance (psycopg2, as dagster-postgres needs)."""
    base = sa.make_url(pg_url)
    url = base.set(drivername="postgresql+psycopg2", database=f"{base.database}_pool_dagster")
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


@contextmanager
def counted_connects() -> Iterator[list[int]]:
    """Counts the database connections any SQLAlchemy pool in this process opens meanwhile."""
    opened = [0]

    def on_connect(*_: Any) -> None:
        opened[0] += 1

    sa.event.listen(sa.pool.Pool, "connect", on_connect)
    try:
        yield opened
    finally:
        sa.event.remove(sa.pool.Pool, "connect", on_connect)


def _connects_for_three_runs(instance: dg.DagsterInstance) -> int:
    dg.materialize([toy], partition_key="a", instance=instance)  # tables exist, caches warm
    with counted_connects() as opened:
        for key in ("a", "b", "c"):
            assert dg.materialize([toy], partition_key=key, instance=instance).success
    return opened[0]


def test_the_repository_instance_opens_a_few_connections_not_one_per_query(
    tmp_path: Path, instance_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_PG_URL", instance_db)
    shutil.copy(REPO_DAGSTER_YAML, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage_data = instance.get_ref().storage_data
        assert storage_data is not None
        assert storage_data.class_name == PooledPostgresStorage.__name__
        pooled = _connects_for_three_runs(instance)
        runs = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
        assert len(runs) == 4  # the storage still records every run
    stock_storage = {"postgres": {"postgres_url": instance_db}}
    with dg.instance_for_test(overrides={"storage": stock_storage}) as instance:
        stock = _connects_for_three_runs(instance)
    # dagster-postgres as shipped opens one per query (dozens per run); pooled, none once warm
    # (each partitioned materialization nests a second query: two connections are kept for it)
    assert stock >= 3 * 20
    assert pooled == 0


def test_disposing_the_instance_closes_its_pooled_connections(
    tmp_path: Path, instance_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_PG_URL", instance_db)
    shutil.copy(REPO_DAGSTER_YAML, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        dg.materialize([toy], partition_key="a", instance=instance)
        storages: list[Any] = [
            instance.run_storage,
            instance.event_log_storage,
            instance.schedule_storage,
        ]
        pools = [s._engine.pool for s in storages]
        assert all(isinstance(p, sa.pool.QueuePool) for p in pools)
        assert sum(p.checkedin() for p in pools) >= 1  # kept open between queries
    assert sum(p.checkedin() for p in pools) == 0


def test_connections_the_server_dropped_while_idle_are_replaced_not_failed(
    tmp_path: Path, instance_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL restart or a firewall's idle timeout ends the kept connections: the next
    runs ping them (idle past PING_IDLE_S, here at once) and open new ones, without an error."""
    monkeypatch.setenv("DAGSTER_PG_URL", instance_db)
    monkeypatch.setattr(instance_storage, "PING_IDLE_S", 0.0)
    shutil.copy(REPO_DAGSTER_YAML, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert dg.materialize([toy], partition_key="a", instance=instance).success
        database = sa.make_url(instance_db).database
        admin = sa.create_engine(instance_db, poolclass=sa.NullPool)
        with admin.connect() as conn:
            ended = conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
        admin.dispose()
        assert ended >= 1  # the instance's pool kept connections open
        with counted_connects() as opened:
            for key in ("b", "c"):
                assert dg.materialize([toy], partition_key=key, instance=instance).success
        assert opened[0] >= 1  # the dropped ones were replaced ...
        runs = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
        assert len(runs) == 3  # ... and every run was recorded


def test_dg_in_the_checkout_without_the_instance_variable_stops_with_one_line(
    tmp_path: Path,
) -> None:
    """`dg check defs` (or `dg dev`) in the project root, no DAGSTER_HOME: Dagster loads the
    checkout's dagster.yaml (production); the process stops with one line naming what to do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "HOSTAWAY_"))}
    with dotenv_turn():  # `dg` reads the checkout's .env, which ui/test_ui.py writes for a while
        done = subprocess.run(
            [str(Path(sys.executable).parent / "dg"), "check", "defs"],
            cwd=REPO_DAGSTER_YAML.parent, env={**env, "HOME": str(tmp_path)},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if "DAGSTER_PG_URL" in line]
    assert lines == [
        "DAGSTER_PG_URL is not set: this dagster.yaml is the production instance (PostgreSQL). "
        "For a local Dagster UI on embedded defaults run `./dev ui`; for production set "
        "DAGSTER_PG_URL and DAGSTER_HOME (docs/PRODUCTION.md)."
    ], done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_an_instance_made_from_the_ref_of_an_existing_one_opens_one_connection(
    tmp_path: Path, instance_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster makes an instance from the ref for every sensor tick: on a database whose tables
    exist, its table check and its first queries share one pooled connection (dagster-postgres
    as shipped opens one per storage for the check, then one per query)."""
    monkeypatch.setenv("DAGSTER_PG_URL", instance_db)
    shutil.copy(REPO_DAGSTER_YAML, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:  # a new database: created
        assert dg.materialize([toy], partition_key="a", instance=instance).success
        ref = instance.get_ref()
    with counted_connects() as opened, dg.DagsterInstance.from_ref(ref) as ticked:
        assert len(ticked.get_runs()) == 1
        assert ticked.get_latest_materialization_event(dg.AssetKey("toy")) is not None
        assert ticked.schedule_storage is not None
        assert ticked.schedule_storage.all_instigator_state() == []
    assert opened[0] == 1
