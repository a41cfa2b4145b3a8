"""Shared fixtures: the real PostgreSQL (a migrated warehouse per test), SQLite, and the sandbox over HTTP.

Which PostgreSQL: see `pg_choice.py` (a configured URL, the local server, or an embedded cluster).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from hostaway_pipeline_tests.pg_choice import PgChoice, PgChoiceError, choose
from hostaway_pipeline_tests.pg_server import EmbeddedPostgres
from hostaway_pipeline_tests.support import alembic_cache
from hostaway_pipeline_tests.support.databases import (
    MigratedPg,
    MigratedSqlite,
    drop_schema,
    ensure_database,
    per_worker,
)
from hostaway_pipeline_tests.support.databases import database_beside as database_beside
from hostaway_pipeline_tests.support.sandboxes import seeded_sandbox
from hostaway_pipeline_tests.support.scratch import use_tmpfs

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from hostaway_sandbox import SandboxServer

PG_CHOICE = pytest.StashKey[PgChoice]()
PG_USED = pytest.StashKey[str]()
PG_CLUSTER = pytest.StashKey[EmbeddedPostgres]()
PROD_PASSWORD = "prod-pw-7f3a9c"  # trust auth ignores it; it must never be printed


def pytest_configure(config: pytest.Config) -> None:
    use_tmpfs()  # before anything asks for a temporary directory (support/scratch.py)
    alembic_cache.install()  # Dagster's migration scripts parsed once (support/alembic_cache.py)
    try:
        config.stash[PG_CHOICE] = choose()
    except PgChoiceError as err:
        raise pytest.UsageError(str(err)) from err


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding a `slow` test run first (in their order; the rest keep theirs): under
    pytest-xdist the minute-long tests (deployments, the demo, the benchmark smoke run) then start
    at once, beside the short ones, instead of starting last and ending the run alone."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: absent with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With `--dist loadgroup` (./dev test), every test under e2e/ runs on one worker
    (support/xdist_groups.py)."""
    if config.getoption("dist", None) != "loadgroup":
        return None
    from hostaway_pipeline_tests.support.xdist_groups import make_scheduler

    return make_scheduler(config, log)


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
        reporter.write_line(f"scratch files: {tempfile.gettempdir()} (support/scratch.py)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    used = terminalreporter.config.stash.get(PG_USED, None)
    if used:
        terminalreporter.write_line(f"postgresql: {used}")


# The names other test modules import from here (the code lives in support/databases.py).
_ensure_database = ensure_database
_per_worker = per_worker
reset_pg_schema = drop_schema


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


@pytest.fixture(scope="session")
def _migrated_pg(pg_url: str) -> MigratedPg:
    """The worker's test database, migrated once per session (support/databases.py)."""
    migrated = MigratedPg(pg_url)
    migrated.migrate()
    return migrated


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> MigratedSqlite:
    """A SQLite warehouse file migrated once per session, copied for each test."""
    return MigratedSqlite(tmp_path_factory.mktemp("migrated-sqlite"))


@pytest.fixture
def fresh_pg_url(pg_url: str, _migrated_pg: MigratedPg) -> str:
    """The PostgreSQL test database, migrated to head, with no row in any table of `hostaway`."""
    _migrated_pg.reset()
    return pg_url


@pytest.fixture
def empty_pg_url(pg_url: str) -> str:
    """The PostgreSQL test database without schema `hostaway`: for tests of the migrations
    themselves, and of what happens before the first one."""
    drop_schema(pg_url)
    return pg_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A path for a new embedded SQLite warehouse file (not created)."""
    return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: MigratedSqlite
) -> str:
    """Each warehouse backend in turn, migrated to head and without rows: the real PostgreSQL
    (`fresh_pg_url`) and an embedded SQLite file."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("fresh_pg_url"))
    return _migrated_sqlite.copy_to(tmp_path / "warehouse.sqlite")


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each warehouse backend in turn, never migrated (PostgreSQL without schema `hostaway`, a
    SQLite path with no file): for tests of the migrations."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("empty_pg_url"))
    return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"


@pytest.fixture
def secret_key() -> str:
    """A fresh Fernet key for sealing secrets in tests."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def _instance_db(pg_url: str) -> str:
    """The worker's Dagster database on the chosen PostgreSQL (support/dagster_instance.py)."""
    from hostaway_pipeline_tests.support.dagster_instance import instance_database

    return instance_database(pg_url)


@pytest.fixture
def instance(_instance_db: str) -> Iterator[DagsterInstance]:
    """A Dagster instance for in-process runs and ticks, with nothing in it: the production
    storage on the worker's own PostgreSQL database, emptied first (support/dagster_instance.py)."""
    from hostaway_pipeline_tests.support.dagster_instance import pg_instance

    with pg_instance(_instance_db) as inst:
        yield inst


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A small seeded Hostaway sandbox over real HTTP on a 1 s window: without rate limits, or
    with Hostaway's real ones for tests marked `rate_limited` (support/sandboxes.py)."""
    limited = request.node.get_closest_marker("rate_limited") is not None
    with seeded_sandbox(limited=limited) as server:
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
