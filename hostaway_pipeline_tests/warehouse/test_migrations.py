"""Migrations: idempotent, race-safe, in schema `hostaway` on PostgreSQL, and matching schema.py."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline.warehouse.errors import WarehouseBusyError
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.support import processes

ALL_TABLES = {t.name for t in schema.metadata.sorted_tables}


def test_upgrade_creates_every_table_and_is_idempotent(empty_db_url: str) -> None:
    engine = db.create_engine(empty_db_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    on_pg = engine.dialect.name == "postgresql"
    tables = set(sa.inspect(engine).get_table_names(schema="hostaway" if on_pg else None))
    assert tables == ALL_TABLES | {"alembic_version"}
    engine.dispose()


def test_postgres_keeps_tables_and_version_table_in_schema_hostaway(empty_pg_url: str) -> None:
    engine = db.create_engine(empty_pg_url)
    db.upgrade(engine)
    inspector = sa.inspect(engine)
    assert "hostaway" in inspector.get_schema_names()
    assert "alembic_version" in inspector.get_table_names(schema="hostaway")
    assert not ALL_TABLES & set(inspector.get_table_names(schema="public"))
    assert "alembic_version" not in inspector.get_table_names(schema="public")
    engine.dispose()


def test_migrations_match_schema_module(empty_db_url: str) -> None:
    engine = db.create_engine(empty_db_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        on_pg = conn.dialect.name == "postgresql"
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_schemas": on_pg,
                "version_table_schema": "hostaway" if on_pg else None,
                # PostgreSQL: only schema `hostaway` (other tests may own `public`).
                "include_name": lambda name, type_, _parent: (
                    not on_pg or type_ != "schema" or name == "hostaway"
                ),
            },
        )
        target = schema.metadata
        if not on_pg:  # the schema_translate_map drops the schema on SQLite; do the same here
            target = sa.MetaData(naming_convention=schema.metadata.naming_convention)
            for table in schema.metadata.sorted_tables:
                table.to_metadata(target, schema=None)  # type: ignore[arg-type]
        diff = compare_metadata(ctx, target)
    assert diff == []
    engine.dispose()


def test_three_processes_upgrading_at_once_all_succeed(empty_db_url: str) -> None:
    ctx = processes.context()
    barrier, results = ctx.Barrier(3), ctx.Queue()
    from hostaway_pipeline_tests.warehouse.workers import upgrade_at_once

    procs = [
        ctx.Process(target=upgrade_at_once, args=(empty_db_url, barrier, results)) for _ in range(3)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=waits.PROCESS_S) for _ in procs]
    for p in procs:
        p.join(timeout=waits.PROCESS_S)
    assert outcomes == [db.head_revision()] * 3
    engine = db.create_engine(empty_db_url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2"),
        ("sqlite:///x.sqlite", "sqlite"),
    ],
)
def test_bare_postgresql_urls_get_the_psycopg3_driver(given: str, driver: str) -> None:
    assert db.normalize_url(given).drivername == driver


def test_sqlite_engine_uses_wal_and_a_busy_timeout(sqlite_url: str) -> None:
    engine = db.create_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_unsupported_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        db.create_engine("mysql://u@h/d")


def test_fresh_sqlite_warehouse_is_switched_to_wal_once(sqlite_url: str) -> None:
    engine = db.create_engine(sqlite_url)
    path = sa.make_url(sqlite_url).database
    assert path is not None
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


@pytest.mark.parametrize("fresh", [True, False], ids=["first-start", "migrated"])
def test_sqlite_locked_past_the_busy_timeout_says_busy_not_unreachable(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, fresh: bool
) -> None:
    path = sa.make_url(sqlite_url).database
    assert path is not None
    if not fresh:
        engine = db.create_engine(sqlite_url)
        db.upgrade(engine)
        engine.dispose()
    # Another program (the sqlite3 shell, say) holds the database exclusively.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.3)
    try:
        with pytest.raises(WarehouseBusyError) as caught:
            db.upgrade(db.create_engine(sqlite_url))
    finally:
        holder.rollback()
        holder.close()
    message = str(caught.value)
    assert "the embedded warehouse is busy (another process holds it" in message
    assert "cannot reach" not in message
    assert caught.value.retryable
