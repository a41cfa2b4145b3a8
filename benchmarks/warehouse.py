"""The benchmark's own PostgreSQL database: created when missing, reset per scenario."""

from __future__ import annotations

import os

import sqlalchemy as sa
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.warehouse import db

DEFAULT_DB_URL = "postgresql+psycopg://root@127.0.0.1:5432/hostaway_bench"


def default_db_url() -> str:
    return os.environ.get("HOSTAWAY_BENCH_DATABASE_URL", DEFAULT_DB_URL)


def new_secret_key() -> str:
    """A Fernet key for this benchmark run (workers get it through HOSTAWAY_SECRET_KEY)."""
    return Fernet.generate_key().decode()


def ensure_database(url: str) -> None:
    """Create the database named in `url` when it does not exist."""
    target = db.normalize_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop the database named in `url` (the smoke test's throwaway database)."""
    target = db.normalize_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def fresh_warehouse(url: str, key: str, secrets: dict[int, str]) -> sa.Engine:
    """An empty, migrated warehouse with the given accounts registered; the caller disposes it."""
    ensure_database(url)
    engine = db.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS hostaway CASCADE"))
    db.upgrade(engine)
    repo = AccountRepo(engine, SecretBox(key))
    for account_id, secret in sorted(secrets.items()):
        repo.add(account_id, secret)
    return engine
