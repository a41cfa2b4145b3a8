"""Dagster's PostgreSQL instance storage, keeping its connections open instead of one per query.

dagster-postgres gives its three storages (runs, event log, schedules) a NullPool outside the
webserver: every query opens and closes a PostgreSQL connection. A quiet incremental run opened
199 of them (measured: `pg_stat_database.sessions` of the instance database), each a server
backend started and authenticated (~5 ms of server CPU) and ~5 ms of the worker's time, about a
third of what the whole run costs; the daemon paid the same for every sensor tick and queue poll.

`PooledPostgresStorage` is the same storage with one small pool for its three storages per
instance: a few connections kept open (the event log nests a second query inside its own
transaction for every asset event: with one kept, each materialization opened and closed a
connection, ~140 in one two-account catalog test), more only while threads (the daemon's) query
at once, each closed again on return.

A connection idle for a while is pinged when taken from the pool, so one the server or network
dropped is replaced rather than failing the query; one returned moments ago is not (a ping per
query doubled the round trips of a run: 7,188 pings of 16,995 queries in one test).

Creating an instance costs connections too, and Dagster creates one per sensor tick from the
instance's ref (in the code server, and so in the tests that tick sensors as it does). Each of
dagster-postgres's three storages looked for its tables on a connection of its own, then each
pool opened its first: 9 new connections for an instance made from a ref (~35 a test in the sensor
tests). Here one connection of the shared pool looks for all the tables once and stays in the pool
for the queries that follow; where a table is missing, the storages create theirs as
dagster-postgres does.
Select it in dagster.yaml (`storage: custom:`, see docs/PRODUCTION.md); every process that loads
the instance must be able to import this module.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from dagster import Field
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
    retry_pg_connection_fn,
)

from hostaway_pipeline.defs._support.private import (
    ConfigurableClassData,
    UserConfigSchema,
    pg_config,
)

if TYPE_CHECKING:
    from dagster_postgres.auth import PgTokenProvider

KEPT_OPEN = 3  # connections kept per instance, shared by its three storages
# The tables each dagster-postgres storage looks for before creating its own ("schedules" is the
# schedule storage's older table; "jobs" is there in every schema it creates).
TABLES = frozenset({"runs", "instance_info", "event_logs", "jobs"})
PING_IDLE_S = 10.0  # a connection idle longer than this is pinged before it is used
OVERFLOW = 10  # extra connections while threads query at once; closed when returned
RECYCLE_S = 3600  # reopen a connection after an hour, ahead of any idle timeout on the way


class PooledPostgresStorage(DagsterPostgresStorage):
    """DagsterPostgresStorage whose run, event-log and schedule storages share pooled connections."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: PgTokenProvider | None = None,
    ) -> None:
        engine = _pooled_engine(postgres_url, token_provider)
        # Dagster's table checks only where a table is missing (a new database), else none.
        check_tables = should_autocreate_tables and not set(_table_names(engine)) >= TABLES
        super().__init__(postgres_url, check_tables, inst_data, token_provider)
        self.should_autocreate_tables = should_autocreate_tables  # as configured
        for storage in self._sql_storages():
            _pool(storage, engine)

    def _sql_storages(self) -> tuple[Any, Any, Any]:
        return (self._run_storage, self._event_log_storage, self._schedule_storage)

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        # `postgres_url_env`: the name of the variable holding the URL, read here so that a
        # missing variable stops the process with one line saying what to do (Dagster's own
        # `{env: ...}` fails with a traceback, e.g. for `dg dev` run in the checkout).
        schema = pg_config()
        assert isinstance(schema, dict)
        return {**schema, "postgres_url_env": Field(str, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresStorage:
        if "postgres_url_env" in config_value:
            config_value = {**config_value, "postgres_url": _url_from_env(config_value)}
            del config_value["postgres_url_env"]
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


def _url_from_env(config_value: Mapping[str, Any]) -> str:
    name = config_value["postgres_url_env"]
    url = os.environ.get(name, "").strip()
    if not url:
        raise SystemExit(
            f"{name} is not set: this dagster.yaml is the production instance (PostgreSQL). For "
            "a local Dagster UI on embedded defaults run `./dev ui`; for production set "
            f"{name} and DAGSTER_HOME (docs/PRODUCTION.md)."
        )
    return url


def _pooled_engine(postgres_url: str, token_provider: PgTokenProvider | None) -> sa.Engine:
    """The instance's pool, shared by its three storages (all of them autocommit)."""
    engine = create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=KEPT_OPEN,
        max_overflow=OVERFLOW,
        pool_recycle=RECYCLE_S,
    )
    _ping_when_idle(engine)
    return engine


def _table_names(engine: sa.Engine) -> list[str]:
    """The tables of the instance database, read on a pooled connection that stays open
    (retried while the server does not answer yet, as dagster-postgres retries its own check)."""

    def read() -> list[str]:
        with engine.connect() as conn:
            return sa.inspect(conn).get_table_names()

    return retry_pg_connection_fn(read)


def _pool(storage: Any, engine: sa.Engine) -> None:
    """Give one of the storages the instance's pooled engine, closed when it is disposed (or, in
    the webserver, replaced by an engine of the storage's own).

    The instance disposes (and, in the webserver, re-engines) the three storages, not this class.
    """
    unpooled = storage._engine
    storage._engine = engine
    unpooled.dispose()
    dispose, optimize = storage.dispose, storage.optimize_for_webserver

    def dispose_and_close() -> None:
        dispose()
        storage._engine.dispose()

    def close_then_optimize(statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        storage._engine.dispose()  # the webserver brings its own pooled engine
        optimize(statement_timeout, pool_recycle, max_overflow)

    storage.dispose = dispose_and_close
    storage.optimize_for_webserver = close_then_optimize


def _ping_when_idle(engine: sa.Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle longer than PING_IDLE_S only.

    A failed ping raises DisconnectionError, on which the pool discards the connection and opens
    a new one (SQLAlchemy's PoolEvents.checkout)."""

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_S:
            return  # new, or returned moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            raise sa.exc.DisconnectionError(f"instance storage connection dropped: {err}") from err
