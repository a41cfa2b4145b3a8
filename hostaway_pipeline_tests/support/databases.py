"""Test databases: migrate once per session, then give each test an empty migrated warehouse.

Replaying every migration costs ~1.2 s per test on PostgreSQL (~0.25 s on SQLite), and most tests
only need the warehouse as the migrations leave it, not the migrations themselves. So:

- PostgreSQL: the session migrates the worker's test database once and records the catalog of
  schema `hostaway` (tables, columns, defaults, constraints, indexes, triggers, functions, grants,
  the Alembic revision). Before each test, `reset_to_migrated` compares the catalog with that
  record: unchanged, it deletes every row (one statement batch, ~10 ms); changed (a test dropped,
  altered or downgraded something), it drops the schema and migrates again from scratch.
- SQLite: a file migrated once per session, copied for each test.

Tests whose subject is the migrations themselves ask for an empty database (`empty_pg_url`,
`empty_db_url` in conftest.py) and migrate from nothing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from hostaway_pipeline.warehouse import db, schema

# Everything in schema `hostaway` a test could change that the migrations define. Rows are not
# part of it (they are deleted); `public` and other schemas are left alone, as before.
_CATALOG = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT concat_ws(':', 'nsp', n.nspowner::regrole, n.nspacl) AS item
    FROM pg_namespace n WHERE n.nspname = 'hostaway'
  UNION ALL
  SELECT concat_ws(':', 'rel', c.relname, c.relkind, c.relpersistence, c.relowner::regrole,
                   c.relacl, c.reloptions, c.relrowsecurity)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hostaway'
  UNION ALL
  SELECT concat_ws(':', 'col', c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = 'hostaway' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT concat_ws(':', 'con', con.conrelid::regclass, con.conname, pg_get_constraintdef(con.oid))
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
   WHERE n.nspname = 'hostaway'
  UNION ALL
  SELECT concat_ws(':', 'idx', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hostaway'
  UNION ALL
  SELECT concat_ws(':', 'trg', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'hostaway' AND NOT t.tgisinternal
  UNION ALL
  SELECT concat_ws(':', 'pol', p.polrelid::regclass, p.polname)
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hostaway'
  UNION ALL
  SELECT concat_ws(':', 'fn', p.oid::regprocedure, md5(p.prosrc))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'hostaway'
  UNION ALL
  SELECT concat_ws(':', 'typ', t.typname, t.typtype)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = 'hostaway' AND t.typrelid = 0 AND t.typelem = 0
) AS catalog
"""


def ensure_database(url: str) -> None:
    """Create the database of `url` on its server unless it exists."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
        relax_durability(conn, str(target.database))
    admin.dispose()


def relax_durability(admin: sa.Connection, database: str) -> None:
    """A test database's commits do not wait for the WAL to reach the disk (as on the embedded
    cluster, whose durability is off): same transactions, locks and visibility, but a commit costs
    no fsync on a disk other work shares. Only a crash of the server could lose the last ones."""
    admin.execute(sa.text(f'ALTER DATABASE "{database}" SET synchronous_commit = off'))


def database_beside(url: str, suffix: str) -> str:
    """The URL of another database on the same server, named after the test database."""
    base = sa.engine.make_url(url)
    return base.set(database=f"{base.database}{suffix}").render_as_string(hide_password=False)


def per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets its own test database (and so its own databases
    beside it: every other one is named after it), so workers never share a row."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return database_beside(url, f"_{worker}") if worker else url


def drop_schema(url: str) -> None:
    """Drop the warehouse schema so a test starts from nothing."""
    db.forget_upgrades()  # this process must migrate the emptied database again
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS hostaway CASCADE"))
    engine.dispose()


def _catalog(conn: sa.Connection) -> str:
    """A digest of schema `hostaway` as defined (see _CATALOG) and its Alembic revision."""
    revision = ""
    if conn.scalar(sa.text("SELECT to_regclass('hostaway.alembic_version')")) is not None:
        revision = ",".join(
            conn.scalars(sa.text("SELECT version_num FROM hostaway.alembic_version")).all()
        )
    return f"{conn.scalar(sa.text(_CATALOG))}:{revision}"


@dataclass
class MigratedPg:
    """The worker's test database, migrated once; `reset` empties it for the next test."""

    url: str
    catalog: str = ""
    remigrations: int = 0  # how often a test changed the schema and it was migrated again

    def migrate(self) -> None:
        """Drop schema `hostaway` and replay every migration, then record its catalog."""
        drop_schema(self.url)
        engine = db.create_engine(self.url)
        try:
            db.upgrade(engine)
            with engine.connect() as conn:
                self.catalog = _catalog(conn)
        finally:
            engine.dispose()

    def reset(self) -> None:
        """Leave the warehouse exactly as the migrations do: no row in any table."""
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                if _catalog(conn) == self.catalog:
                    # Children before parents, so no foreign key objects. One round trip.
                    tables = [t for t in reversed(schema.metadata.sorted_tables)]
                    conn.exec_driver_sql(
                        "; ".join(f'DELETE FROM hostaway."{t.name}"' for t in tables)
                    )
                    return
        finally:
            engine.dispose()
        self.remigrations += 1
        self.migrate()


class MigratedSqlite:
    """A SQLite warehouse file migrated once; `copy_to` gives a test its own copy."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "migrated.sqlite"
        engine = db.create_engine(f"sqlite:///{self.path}")
        try:
            db.upgrade(engine)
        finally:
            engine.dispose()  # the last connection checkpoints the WAL into the file
        for extra in ("-wal", "-shm"):
            assert not Path(f"{self.path}{extra}").exists(), f"{self.path}{extra} left behind"

    def copy_to(self, path: Path) -> str:
        """A migrated warehouse at `path` (mode 0600, like one the project creates); its URL."""
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, path)
        os.chmod(path, 0o600)
        return f"sqlite:///{path}"
