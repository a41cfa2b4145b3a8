"""Dagster's PostgreSQL instance storage, keeping its connections open instead of one per query.

dagster-postgres gives its three storages (runs, event log, schedules) a NullPool outside the
webserver: every query opens and closes a PostgreSQL connection. A quiet incremental run opened
199 of them (measured: `pg_stat_database.sessions` of the instance database), each a server
backend started and authenticated (~5 ms of server CPU) and ~5 ms of the worker's time, about a
third of what the whole run costs; the daemon paid the same for every sensor tick and queue poll.

`PooledPostgresStorage` is the same storage with a small pool per storage and process: two
connections kept open (the event log nests a second query inside its own transaction for every
asset event: with one kept, each materialization opened and closed a connection, ~140 in one
two-account catalog test), more only while threads (the daemon's) query at once, each closed again
on return. A connection idle for a while is pinged when taken from the pool, so one the server or
network dropped is replaced rather than failing the query; one returned moments ago is not (a
ping per query doubled the round trips of a run: 7,188 pings of 16,995 queries in one test).
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
)

from hostaway_pipeline.defs._support.private import (
    ConfigurableClassData,
    UserConfigSchema,
    pg_config,
)

if TYPE_CHECKING:
    from dagster_postgres.auth import PgTokenProvider

KEPT_OPEN = 2  # connections kept per storage (runs, event log, schedules) and process
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
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        for storage in self._sql_storages():
            _pool(storage, token_provider)

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


def _pool(storage: Any, token_provider: PgTokenProvider | None) -> None:
    """Give one of the storages a pooled engine, closed when it is disposed or replaced.

    The instance disposes (and, in the webserver, re-engines) the three storages, not this class.
    """
    unpooled = storage._engine
    storage._engine = create_pg_engine(
        storage.postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=KEPT_OPEN,
        max_overflow=OVERFLOW,
        pool_recycle=RECYCLE_S,
    )
    _ping_when_idle(storage._engine)
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
