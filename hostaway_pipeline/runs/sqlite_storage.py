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
import yaml
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
)
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.schedules import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import NullPool

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

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> Self:
        storage = cls.from_local(inst_data=inst_data, **config_value)  # type: ignore[attr-defined]
        assert isinstance(storage, cls)  # from_local builds `cls`, typed as the parent
        return storage


class CachedEngineRunStorage(_OneEngine, SqliteRunStorage):
    pass


class CachedEngineScheduleStorage(_OneEngine, SqliteScheduleStorage):
    pass


class CachedEngineEventLogStorage(SqliteEventLogStorage):
    _engines = _Engines(timeout=SQLITE_BUSY_TIMEOUT_SECONDS)

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
        engine = self._engines.get(self.conn_string_for_shard(INDEX_SHARD_NAME))
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> CachedEngineEventLogStorage:
        return cls(inst_data=inst_data, **config_value)


class EmbeddedSqliteStorage(DagsterSqliteStorage):
    """`storage: custom:` with `config: {base_dir: ...}`, as `storage: sqlite:`."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data)
        # The parent's storages opened (and, when new, created) the same files: reuse them as ours.
        self._run_storage = CachedEngineRunStorage(self._run_storage._conn_string)
        self._event_log_storage = CachedEngineEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = CachedEngineScheduleStorage(self._schedule_storage._conn_string)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> Self:
        return cls.from_local(inst_data=inst_data, **config_value)

    def _data(self, name: str, base_dir: str) -> ConfigurableClassData:
        return ConfigurableClassData(__name__, name, yaml.dump({"base_dir": base_dir}))

    @property
    def event_storage_data(self) -> ConfigurableClassData | None:
        return self._data("CachedEngineEventLogStorage", _event_logs_directory(self.base_dir))

    @property
    def run_storage_data(self) -> ConfigurableClassData | None:
        return self._data("CachedEngineRunStorage", _runs_directory(self.base_dir))

    @property
    def schedule_storage_data(self) -> ConfigurableClassData | None:
        return self._data("CachedEngineScheduleStorage", _schedule_directory(self.base_dir))
