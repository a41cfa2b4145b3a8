"""Engines and migrations: one `create_engine` for both backends, and a race-safe `upgrade`.

SQLite (the embedded default) runs in WAL mode with a 30 s busy timeout, and every transaction
starts with BEGIN IMMEDIATE: several Dagster step processes write at once, and a deferred
transaction that reads and then writes fails at once with SQLITE_BUSY instead of waiting.

WAL is switched on once per database file, not on every connect: the switch needs an exclusive
lock, and SQLite answers SQLITE_BUSY at once, without calling the busy handler, to a connection
that holds a shared lock and asks for more while another does the same (its deadlock rule). Two
processes opening a fresh warehouse together hit exactly that. So the switch runs under an OS file
lock beside the database (one process at a time, across processes), retried on busy until the
busy timeout; WAL is persistent, so later connections only read the mode.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from filelock import FileLock, Timeout
from sqlalchemy.dialects import postgresql, sqlite

from hostaway_pipeline.warehouse.errors import (
    WarehouseBusyError,
    WarehouseError,
    WarehouseUnavailableError,
    busy_message,
    connection_lost,
    reason,
    safe_url,
    sqlite_busy,
)
from hostaway_pipeline.warehouse.files import ensure_private_file
from hostaway_pipeline.warehouse.locks import pg_advisory_lock
from hostaway_pipeline.warehouse.schema import SCHEMA
from hostaway_pipeline.warehouse.verify import verify_catalog

if TYPE_CHECKING:  # Alembic is imported when migrating, not by everything that touches the db
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10  # seconds (libpq's connect_timeout)
_UPGRADE_LOCK = "hostaway_pipeline.warehouse.upgrade"
# Warehouses (by URL) this process has already brought to head: the check costs a connection,
# a lock and Alembic's script scan, and every step, sensor tick and run would pay it again.
_UPGRADED: set[str] = set()

_compact_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class JSONText(str):
    """A value already serialised to JSON: JSON columns store it as is instead of encoding again.

    Upserts serialise each payload once (to hash it) and hand that text to the driver; encoding
    large payloads is the most expensive step of a write.
    """

    __slots__ = ()


def _json_dumps(value: object) -> str:
    return value if type(value) is JSONText else _compact_dumps(value)


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Parse `url`; a bare postgresql:// URL gets the psycopg (3) driver."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str | sa.URL, **kwargs: Any) -> sa.Engine:
    """An engine for the warehouse at `url` (PostgreSQL or SQLite), configured for this project.

    Statement parameters are hidden from errors and logs: they hold guest data and sealed secrets.
    """
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    try:
        parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise WarehouseError(
            f"the warehouse URL {safe_url(parsed)} (HOSTAWAY_DATABASE_URL) names the driver "
            f"{parsed.drivername!r}, which is not installed; use postgresql+psycopg:// or sqlite:///"
        ) from None
    if backend == "postgresql":
        # A database that accepts no connection (a firewall dropping packets) must fail the
        # run, not hang it; the URL's own ?connect_timeout= wins.
        # force_custom_plan: psycopg prepares a statement after 5 runs, and PostgreSQL may then
        # cache a generic plan chosen while the table was still empty (a first sync) that scans
        # every row of the account per `id = ANY(...)` lookup (130 ms at 200k rows instead of
        # 0.5 ms); only an ANALYZE would replace it. Planning each run costs ~0.1 ms.
        connect_args: dict[str, Any] = {
            "options": "-c timezone=UTC -c plan_cache_mode=force_custom_plan"
        }
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        connect_args.update(kwargs.pop("connect_args", {}))
        return sa.create_engine(
            parsed,
            pool_pre_ping=True,
            hide_parameters=True,
            json_serializer=_json_dumps,
            connect_args=connect_args,
            **kwargs,
        )
    if backend == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    raise ValueError(
        f"unsupported warehouse backend {backend!r}; use postgresql+psycopg:// or sqlite:///"
    )


def _sqlite_engine(url: sa.URL, **kwargs: Any) -> sa.Engine:
    in_memory = not url.database or url.database == ":memory:"
    if not in_memory and not str(url.database).startswith("file:"):
        path = Path(str(url.database)).resolve()
        # Guest data: the file exists as 0600 (folder 0700) before SQLite writes a byte to it;
        # SQLite gives its -wal and -shm files the database file's mode.
        ensure_private_file(path)
        _ensure_wal(path, url)
    engine = sa.create_engine(
        url,
        hide_parameters=True,
        json_serializer=_json_dumps,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})},
        execution_options={"schema_translate_map": {SCHEMA: None}},
        **kwargs,
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver must not BEGIN on its own: we do, below
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if not in_memory:
            cursor.execute("PRAGMA synchronous = NORMAL")  # per connection; safe in WAL mode
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _ensure_wal(path: Path, url: sa.URL) -> None:
    """Switch the database file at `path` to WAL once, safely when processes race (see above)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    try:
        with FileLock(f"{path}.lock", timeout=SQLITE_BUSY_TIMEOUT_S, mode=0o600):
            while True:
                conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
                try:
                    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                        return
                    conn.execute("PRAGMA journal_mode = WAL")
                    return
                except sqlite3.OperationalError as exc:
                    # Another program (not ours: they take the file lock) holds the database.
                    if not sqlite_busy(exc) or time.monotonic() > deadline:
                        raise
                finally:
                    conn.close()
                time.sleep(0.05)
    except (Timeout, sqlite3.OperationalError) as exc:
        if isinstance(exc, sqlite3.OperationalError) and not sqlite_busy(exc):
            raise WarehouseError(
                f"cannot open the embedded warehouse at {safe_url(url)} ({reason(exc)}): check "
                "that HOSTAWAY_HOME (or the file in HOSTAWAY_DATABASE_URL) is writable"
            ) from None
        raise WarehouseBusyError(busy_message(url)) from None


def dialect_insert(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {conn.dialect.name!r}")


def alembic_config() -> Config:
    """An alembic Config pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        schema = SCHEMA if conn.dialect.name == "postgresql" else None
        ctx = MigrationContext.configure(conn, opts={"version_table_schema": schema})
        revision = ctx.get_current_revision()
        conn.rollback()
        return revision


def upgrade_once(engine: sa.Engine) -> None:
    """`upgrade` the first time this process sees the warehouse at `engine.url`; then nothing."""
    key = engine.url.render_as_string(hide_password=False)
    if key in _UPGRADED:
        return
    upgrade(engine)
    _UPGRADED.add(key)


def forget_upgrades() -> None:
    """Make `upgrade_once` check again (tests that drop and recreate a warehouse)."""
    _UPGRADED.clear()


def upgrade(engine: sa.Engine, *, verify: bool = True) -> None:
    """Migrate the warehouse to the newest revision; idempotent and safe when processes race.

    PostgreSQL: an advisory lock serialises upgraders and the migration runs in one transaction.
    SQLite: BEGIN IMMEDIATE (see module docstring) holds the write lock for the whole migration,
    so a second upgrader waits, then finds the database at head.
    Then (unless `verify` is False: generating a migration) the catalog check of verify.py.
    """
    from alembic import command

    cfg = alembic_config()
    try:
        if engine.dialect.name == "postgresql":
            with pg_advisory_lock(engine, _UPGRADE_LOCK), engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
                if verify:
                    verify_catalog(conn, engine.url)
        else:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                if verify:
                    verify_catalog(conn, engine.url)
    except sa.exc.DBAPIError as exc:
        # Usually the first contact with the database: say which one, and that nothing was done.
        if sqlite_busy(exc):
            raise WarehouseBusyError(busy_message(engine.url)) from None
        if not connection_lost(exc):
            raise
        raise WarehouseUnavailableError(
            f"cannot reach the warehouse at {safe_url(engine.url)} ({reason(exc)}); nothing was "
            "written: check HOSTAWAY_DATABASE_URL and that the database is up, then retry"
        ) from None
