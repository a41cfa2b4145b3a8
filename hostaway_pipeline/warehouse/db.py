"""Engines and migrations: one `create_engine` for both backends, and a race-safe `upgrade`.

SQLite (the embedded default) runs in WAL mode with a 30 s busy timeout, and every transaction
starts with BEGIN IMMEDIATE: several Dagster step processes write at once, and a deferred
transaction that reads and then writes fails at once with SQLITE_BUSY instead of waiting.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hostaway_pipeline.warehouse.errors import (
    WarehouseError,
    WarehouseUnavailableError,
    connection_lost,
    reason,
    safe_url,
)
from hostaway_pipeline.warehouse.locks import pg_advisory_lock
from hostaway_pipeline.warehouse.schema import SCHEMA

if TYPE_CHECKING:  # Alembic is imported when migrating, not by everything that touches the db
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10  # seconds (libpq's connect_timeout)
_UPGRADE_LOCK = "hostaway_pipeline.warehouse.upgrade"

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
    if not in_memory:
        Path(str(url.database)).resolve().parent.mkdir(parents=True, exist_ok=True)
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
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


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


def upgrade(engine: sa.Engine) -> None:
    """Migrate the warehouse to the newest revision; idempotent and safe when processes race.

    PostgreSQL: an advisory lock serialises upgraders and the migration runs in one transaction.
    SQLite: BEGIN IMMEDIATE (see module docstring) holds the write lock for the whole migration,
    so a second upgrader waits, then finds the database at head.
    """
    from alembic import command

    cfg = alembic_config()
    try:
        if engine.dialect.name == "postgresql":
            with pg_advisory_lock(engine, _UPGRADE_LOCK), engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
        else:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    except sa.exc.DBAPIError as exc:
        # Usually the first contact with the database: say which one, and that nothing was done.
        if not connection_lost(exc):
            raise
        raise WarehouseUnavailableError(
            f"cannot reach the warehouse at {safe_url(engine.url)} ({reason(exc)}); nothing was "
            "written: check HOSTAWAY_DATABASE_URL and that the database is up, then retry"
        ) from None
