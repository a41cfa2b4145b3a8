"""The per-test warehouse of support/databases.py: empty and at head, whatever the last test did."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline_tests.support.databases import (
    MigratedPg,
    MigratedSqlite,
    database_beside,
    ensure_database,
)


@pytest.fixture
def migrated(pg_url: str) -> MigratedPg:
    """A database of its own (beside the test database), migrated once."""
    url = database_beside(pg_url, "_migrated")
    ensure_database(url)
    migrated = MigratedPg(url)
    migrated.migrate()
    return migrated


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(sa.text(f"SELECT count(*) FROM hostaway.{table}"))
    engine.dispose()
    return int(found or 0)


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def test_reset_deletes_every_row_and_keeps_the_migrated_schema(
    migrated: MigratedPg, secret_key: str
) -> None:
    engine = db.create_engine(migrated.url)
    AccountRepo(engine, SecretBox(secret_key)).add(1, "s" * 40)
    engine.dispose()
    assert _count(migrated.url, "accounts") == 1
    migrated.reset()
    assert _count(migrated.url, "accounts") == 0
    assert migrated.remigrations == 0
    engine = sa.create_engine(migrated.url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE hostaway.messages DROP COLUMN sent_at",
        "DROP TABLE hostaway.listings CASCADE",
        "CREATE INDEX extra ON hostaway.reservations (account_id)",
        "UPDATE hostaway.alembic_version SET version_num = '0001'",
        "DROP SCHEMA hostaway CASCADE",
    ],
)
def test_a_test_that_changed_the_schema_gets_it_migrated_again(
    migrated: MigratedPg, change: str
) -> None:
    before = migrated.catalog
    _execute(migrated.url, change)
    migrated.reset()
    assert migrated.remigrations == 1
    assert migrated.catalog == before
    engine = sa.create_engine(migrated.url)
    tables = set(sa.inspect(engine).get_table_names(schema="hostaway"))
    columns = {c["name"] for c in sa.inspect(engine).get_columns("messages", schema="hostaway")}
    engine.dispose()
    assert tables == {t.name for t in schema.metadata.sorted_tables} | {"alembic_version"}
    assert "sent_at" in columns


def test_each_sqlite_copy_is_its_own_migrated_file(tmp_path: Path) -> None:
    template = MigratedSqlite(tmp_path / "template")
    first = template.copy_to(tmp_path / "a" / "warehouse.sqlite")
    second = template.copy_to(tmp_path / "b" / "warehouse.sqlite")
    engine = db.create_engine(first)
    assert db.current_revision(engine) == db.head_revision()
    with engine.begin() as conn:
        conn.execute(sa.delete(schema.accounts))
        conn.execute(sa.text("DROP TABLE messages"))
    engine.dispose()
    other = db.create_engine(second)
    assert "messages" in sa.inspect(other).get_table_names()
    other.dispose()
    assert (tmp_path / "b" / "warehouse.sqlite").stat().st_mode & 0o777 == 0o600
