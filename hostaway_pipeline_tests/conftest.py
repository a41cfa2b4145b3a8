"""Shared fixtures: the real PostgreSQL (a fresh schema per test), SQLite, and the sandbox over HTTP.

Which PostgreSQL: see `pg_choice.py` (a configured URL, the local server, or an embedded cluster).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hostaway_pipeline_tests.pg_choice import PgChoice, PgChoiceError, choose
from hostaway_pipeline_tests.pg_server import EmbeddedPostgres

PG_CHOICE = pytest.StashKey[PgChoice]()
PG_USED = pytest.StashKey[str]()
PG_CLUSTER = pytest.StashKey[EmbeddedPostgres]()
PROD_PASSWORD = "prod-pw-7f3a9c"  # trust auth ignores it; it must never be printed


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[PG_CHOICE] = choose()
    except PgChoiceError as err:
        raise pytest.UsageError(str(err)) from err


def pytest_unconfigure(config: pytest.Config) -> None:
    """A backstop: the fixture's teardown normally stopped the embedded cluster already."""
    cluster = config.stash.get(PG_CLUSTER, None)
    if cluster is not None:
        cluster.stop()


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Iterator[None]:
    """A line after pytest's header (shown with -q too): which PostgreSQL the run uses."""
    yield
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"postgresql: {session.config.stash[PG_CHOICE].describe()}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    used = terminalreporter.config.stash.get(PG_USED, None)
    if used:
        terminalreporter.write_line(f"postgresql: {used}")


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


def database_beside(url: str, suffix: str) -> str:
    """The URL of another database on the same server, named after the test database."""
    base = sa.engine.make_url(url)
    return base.set(database=f"{base.database}{suffix}").render_as_string(hide_password=False)


def _per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets its own test database (and so its own databases
    beside it: every other one is named after it), so workers never share a row."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return database_beside(url, f"_{worker}") if worker else url


@pytest.fixture(scope="session")
def pg_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """URL of the test database on the chosen PostgreSQL (created if missing)."""
    choice = pytestconfig.stash[PG_CHOICE]
    if choice.url is not None:
        url = _per_worker(choice.url)
        _ensure_database(url)
        yield url
        return
    cluster = pytestconfig.stash[PG_CLUSTER] = EmbeddedPostgres()
    try:
        cluster.start()
        url = _per_worker(cluster.url(choice.database))
        _ensure_database(url)
        yield url
    finally:
        cluster.stop()
        if cluster.port:
            left = cluster.workdir if cluster.workdir and cluster.workdir.exists() else None
            pytestconfig.stash[PG_USED] = (
                f"embedded cluster, PostgreSQL {cluster.version} on 127.0.0.1:{cluster.port}, "
                f"started in {cluster.started_in_s:.1f} s ({choice.why}); stopped, "
                + (f"but its data directory {left} is LEFT BEHIND" if left else "data removed")
            )


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


def seeded_sandbox(seed: object = None) -> object:
    """A seeded Hostaway sandbox over real HTTP, with its real limits on a short window (not
    started): the root `sandbox` fixture's, or with another seed."""
    from hostaway_pipeline.sandbox import SandboxServer, SeedSpec

    return SandboxServer(
        seed=seed or SeedSpec(accounts=2, listings=7, reservations=35, messages_per_conversation=3),
        rate_limit_per_ip=15,
        rate_limit_per_account=20,
        window_s=1.0,
        token_activation_delay_s=0.05,
    )


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A small seeded Hostaway sandbox over real HTTP, with its real limits on a short window."""
    with seeded_sandbox() as server:  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def prod_url(pg_url: str) -> Iterator[str]:
    """A dedicated PostgreSQL database playing production, with a password in its URL."""
    url = sa.make_url(pg_url)
    url = url.set(database=f"{url.database}_prod", password=PROD_PASSWORD)
    text = url.render_as_string(hide_password=False)
    _ensure_database(text)
    reset_pg_schema(text)
    yield text
    reset_pg_schema(text)
