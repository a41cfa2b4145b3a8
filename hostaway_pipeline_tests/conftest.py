"""Shared fixtures: the real PostgreSQL (a fresh schema per test), SQLite, and the sandbox over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

# The test database on the local PostgreSQL; .ci/run creates it (trust auth, no password).
PG_URL = os.environ.get(
    "HOSTAWAY_TEST_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/hostaway_test"
)


def _ensure_database(url: str) -> None:
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the test database on the real PostgreSQL (created if missing)."""
    _ensure_database(PG_URL)
    return PG_URL


def reset_pg_schema(url: str) -> None:
    """Drop the warehouse schema so a test starts from nothing."""
    from hostaway_pipeline.warehouse import db

    db.forget_upgrades()  # this process must migrate the emptied database again
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS hostaway CASCADE"))
    engine.dispose()


@pytest.fixture
def fresh_pg_url(pg_url: str) -> str:
    """The PostgreSQL test database with an empty `hostaway` schema."""
    reset_pg_schema(pg_url)
    return pg_url


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    """A new embedded SQLite warehouse file."""
    return f"sqlite:///{os.path.join(tmp_path, 'warehouse.sqlite')}"


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db_url(request: pytest.FixtureRequest, pg_url: str, tmp_path: os.PathLike[str]) -> str:
    """Each warehouse backend in turn: the real PostgreSQL and embedded SQLite."""
    if request.param == "postgresql":
        reset_pg_schema(pg_url)
        return pg_url
    return f"sqlite:///{os.path.join(tmp_path, 'warehouse.sqlite')}"


@pytest.fixture
def secret_key() -> str:
    """A fresh Fernet key for sealing secrets in tests."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A small seeded Hostaway sandbox over real HTTP, with its real limits on a short window."""
    from hostaway_pipeline.sandbox import SandboxServer, SeedSpec

    server = SandboxServer(
        seed=SeedSpec(accounts=2, listings=7, reservations=35, messages_per_conversation=3),
        rate_limit_per_ip=15,
        rate_limit_per_account=20,
        window_s=1.0,
        token_activation_delay_s=0.05,
    )
    with server:
        yield server
