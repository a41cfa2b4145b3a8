"""Dagster's SQLite instance storage (the demo's, `ui`'s and the CLI's embedded instance), with
one SQLAlchemy engine per database file instead of one per query.

Dagster's SQLite storages create an engine for every query and dispose of it afterwards. An
engine holds SQLAlchemy's cache of compiled statements, so nothing was ever cached: every event a
run stored (several hundred per run: the planned assets and checks, step events, materializations,
check evaluations) compiled its statements anew and built and tore down an engine. Profiled over
`hostaway-pipeline demo`: engine creation, connection and disposal ~10 % of its CPU, statement
compilation ~11 %.

`EmbeddedSqliteStorage` is the same storage, on the same files and tables (an instance written by
either one reads in the other), whose three storages keep one engine per database file, still
without a pool (SQLite opens a file per connection; nothing is held open between queries, so
forking a process that has the instance is as safe as before). The event log has a database per
run: the most recently used `KEPT_ENGINES` engines are kept. `instance_for` (runs/runner.py)
selects it for the embedded instance; every process that loads that instance (the webserver,
daemon and code server of `ui`) imports this module from the project's environment.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from hostaway_pipeline.defs._support import private

KEPT_ENGINES = 32  # per storage and process: the index, and the event logs of the latest runs


class _Engines:
    """Engines by connection string, the least recently used dropped beyond KEPT_ENGINES."""

    def __init__(self, **connect_args: Any) -> None:
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._lock = threading.Lock()
        self._connect_args = connect_args

    def get(self, conn_string: str) -> sa.Engine:
        with self._lock:
            engine = self._engines.get(conn_string)
            if engine is None:
                engine = sa.create_engine(
                    conn_string, poolclass=NullPool, connect_args=self._connect_args
                )
                self._engines[conn_string] = engine
                while len(self._engines) > KEPT_ENGINES:
                    self._engines.popitem(last=False)[1].dispose()
            else:
                self._engines.move_to_end(conn_string)
            return engine


@contextmanager
def _transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


class _OneEngine:
    """`connect` of the run and schedule storages (one database file each), on a kept engine."""

    _conn_string: str
    _engines = _Engines()

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with _transaction(self._engines.get(self._conn_string)) as conn:
            yield conn


class CachedEngineRunStorage(_OneEngine, private.SqliteRunStorage):
    pass


class CachedEngineScheduleStorage(_OneEngine, private.SqliteScheduleStorage):
    pass


class CachedEngineEventLogStorage(private.SqliteEventLogStorage):
    _engines = _Engines(timeout=private.SQLITE_BUSY_TIMEOUT_SECONDS)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        # As SqliteEventLogStorage._connect, with the shard's engine kept.
        with self._db_lock:
            engine = self._engines.get(self.conn_string_for_shard(shard))
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with _transaction(engine) as conn:
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Asked for every asset event with tags; Dagster's builds an engine per call.
        engine = self._engines.get(self.conn_string_for_shard(private.INDEX_SHARD_NAME))
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))


class EmbeddedSqliteStorage(private.DagsterSqliteStorage):
    """`storage: custom:` with `config: {base_dir: ...}`, as `storage: sqlite:`. The instance
    reaches the three storages through this one (a custom storage's instance ref points at it)."""

    def __init__(self, base_dir: str, inst_data: private.ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        # The parent's storages opened (and, when new, created) the same files: reuse them as ours.
        events = self._event_log_storage
        self._run_storage = CachedEngineRunStorage(self._run_storage._conn_string)
        self._event_log_storage = CachedEngineEventLogStorage(events._base_dir)
        self._schedule_storage = CachedEngineScheduleStorage(self._schedule_storage._conn_string)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> Self:
        return cls.from_local(inst_data=inst_data, **config_value)
