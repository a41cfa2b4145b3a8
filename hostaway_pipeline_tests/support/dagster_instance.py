"""The tests' Dagster instance: the production storage (PooledPostgresStorage, as dagster.yaml
selects it) on the worker's own PostgreSQL database, emptied before each test.

Why not `dg.instance_for_test()` as it comes (SQLite): its event log opens a new SQLAlchemy engine
for every query (so nothing it compiles is cached) and commits every event on its own. Creating a
run of the sync job writes ~220-310 events (one per planned asset and check), so a four-entity
incremental run cost ~2.1 CPU-s and the instance itself ~0.6 CPU-s; on PostgreSQL with pooled
connections the same run costs ~0.6 CPU-s and the instance ~0.05 (measured on this machine kind).
It is also the storage production runs on.

Each test still gets an instance with no run, event, partition, tick or key-value in it: the
tables holding rows are truncated and every sequence restarted (storage ids start from 1 as in a
new instance) before the instance is handed out. Dagster's own bookkeeping (its schema revision,
the record of its data migrations, the instance's id) is kept, as a new instance would write it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline_tests.support.databases import database_beside, ensure_database

ENV = "DAGSTER_PG_URL"  # the variable dagster.yaml's storage reads (postgres_url_env)
STORAGE = {
    "custom": {
        "module": "hostaway_pipeline.runs.instance_storage",
        "class": "PooledPostgresStorage",
        "config": {"postgres_url_env": ENV},
    }
}
# Dagster's own bookkeeping, which a new instance writes once and keeps.
_KEPT = ("alembic_version", "secondary_indexes", "instance_info")


def instance_database(pg_url: str) -> str:
    """The worker's Dagster database beside its test database (dagster-postgres needs psycopg2)."""
    url = sa.make_url(database_beside(pg_url, "_dagster")).set(drivername="postgresql+psycopg2")
    text = url.render_as_string(hide_password=False)
    ensure_database(text)
    return text


def empty(url: str) -> None:
    """Delete every run, event, partition, tick and key of the instance at `url`.

    Only the tables holding rows are truncated (a TRUNCATE makes new files for the table and its
    indexes: all 19 tables cost the server ~80 ms of CPU per test, even empty); the sequences of
    the others are set back to their start, so ids start from 1 everywhere as in a new instance.
    """
    with _kept_engine(url).begin() as conn:
        conn.execute(sa.text("SET LOCAL lock_timeout = '20s'"))
        tables = conn.scalars(
            sa.text(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> ALL(:kept)"
            ),
            {"kept": list(_KEPT)},
        ).all()
        if not tables:
            return
        holding = " UNION ALL ".join(
            f"SELECT {i} FROM (SELECT 1 FROM {t} LIMIT 1) AS r{i}" for i, t in enumerate(tables)
        )
        full = [tables[i] for i in conn.scalars(sa.text(holding)).all()]
        if full:
            conn.execute(sa.text(f"TRUNCATE {', '.join(full)} RESTART IDENTITY"))
        conn.execute(
            sa.text(
                "SELECT setval(s.oid, seq.seqstart, false) FROM pg_class s"
                " JOIN pg_sequence seq ON seq.seqrelid = s.oid"
                " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid"
                " WHERE s.relkind = 'S' AND t.relnamespace = 'public'::regnamespace"
                " AND quote_ident(t.relname) = ANY(:empty)"
            ),
            {"empty": [t for t in tables if t not in full]},
        )


@functools.cache
def _kept_engine(url: str) -> sa.Engine:
    """One kept connection per instance database and process, for `empty` before each test."""
    return sa.create_engine(url, pool_size=1, pool_pre_ping=True)


@contextmanager
def pg_instance(url: str) -> Iterator[dg.DagsterInstance]:
    """A test instance (temporary DAGSTER_HOME, artifacts and compute logs) whose storage is the
    emptied PostgreSQL database at `url`. Sets DAGSTER_PG_URL for this process and the processes
    it starts (the instance's ref names the variable, not the URL); restores it after."""
    saved = os.environ.get(ENV)
    os.environ[ENV] = url
    try:
        empty(url)
        with dg.instance_for_test(overrides={"storage": STORAGE}) as instance:
            yield instance
    finally:
        if saved is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved
