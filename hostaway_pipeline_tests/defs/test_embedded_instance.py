"""The embedded instance (demo, `ui`, the CLI without an operator's DAGSTER_HOME): Dagster's SQLite
storage on the same files, with one engine per database file (runs/sqlite_storage.py)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.runs import sqlite_storage
from hostaway_pipeline.runs.embedded import (
    EARLIER_EMBEDDED,
    EMBEDDED_INSTANCE,
    write_embedded_config,
)


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1


JOB = dg.Definitions(assets=[first, second], jobs=[dg.define_asset_job("both")]).resolve_job_def(
    "both"
)


def test_runs_store_their_events_through_one_engine_per_database_file_and_read_as_dagsters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    write_embedded_config(home)
    used: set[sa.Engine] = set()  # the engines connected through (kept alive: no id reused)

    def connected(conn: sa.Connection) -> None:
        used.add(conn.engine)

    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.get_ref().storage, sqlite_storage.EmbeddedSqliteStorage)
        results = [JOB.execute_in_process(instance=instance)]  # creates the databases
        sa.event.listen(sa.Engine, "engine_connect", connected)
        try:
            results += [JOB.execute_in_process(instance=instance) for _ in range(2)]
        finally:
            sa.event.remove(sa.Engine, "engine_connect", connected)
        assert all(r.success for r in results)
        events = sum(len(instance.all_logs(r.run_id)) for r in results)
        run_ids = [r.run_id for r in results]

    # Each run stored ~20 events, each one or more queries, through the same few engines: the
    # index, the runs and the schedules databases' and its own event log's (Dagster's storage:
    # a new engine per query, ~200 for these two runs).
    assert events > 50
    assert len(used) <= 3 + 2, len(used)

    # The same files read with Dagster's own SQLite storage (an instance is not locked to ours).
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {home}\n")
    with dg.DagsterInstance.from_config(str(plain)) as instance:
        records = instance.get_run_records()
        assert sorted(r.dagster_run.run_id for r in records) == sorted(run_ids)
        assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records)
        assert sum(len(instance.all_logs(run_id)) for run_id in run_ids) == events


def test_the_least_recently_used_engines_are_let_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_storage, "KEPT_ENGINES", 2)
    engines = sqlite_storage._Engines()
    a, b = engines.get("sqlite:///a.db"), engines.get("sqlite:///b.db")
    assert engines.get("sqlite:///a.db") is a  # kept, and now the most recently used
    engines.get("sqlite:///c.db")
    assert engines.get("sqlite:///a.db") is a
    assert engines.get("sqlite:///b.db") is not b  # let go when c came in


@pytest.mark.parametrize("earlier", EARLIER_EMBEDDED)
def test_an_earlier_embedded_file_is_upgraded_and_an_operators_own_is_kept(
    tmp_path: Path, earlier: str
) -> None:
    (tmp_path / "dagster.yaml").write_text(earlier)
    write_embedded_config(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == EMBEDDED_INSTANCE

    own = "storage:\n  sqlite:\n    base_dir: /srv/dagster\ntelemetry:\n  enabled: false\n"
    (tmp_path / "dagster.yaml").write_text(own)
    write_embedded_config(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == own
