"""Cross-process locks: PostgreSQL advisory locks, and file locks beside an SQLite database."""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

# In-memory SQLite has no file to lock; its engine lives in one process, so a thread lock does.
_memory_locks: dict[str, threading.Lock] = {}
_memory_locks_guard = threading.Lock()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, derived from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def pg_advisory_lock(engine: sa.Engine, name: str) -> Iterator[None]:
    """Hold a session advisory lock on a dedicated connection for the duration of the block.

    If the process dies, PostgreSQL ends the session and releases the lock.
    """
    key = advisory_key(name)
    with engine.connect() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(key)))
        conn.commit()  # session-level lock: it outlives the transaction, the connection stays idle
        try:
            yield
        finally:
            conn.rollback()
            conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            conn.commit()


def sqlite_lock_dir(engine: sa.Engine) -> Path | None:
    """The folder of lock files beside the engine's SQLite file (None for in-memory databases)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).resolve().parent / (Path(database).name + ".locks")


@contextmanager
def sqlite_file_lock(engine: sa.Engine, name: str) -> Iterator[None]:
    """An exclusive flock on `<database>.locks/<name>.lock` (a thread lock for in-memory DBs).

    flock locks belong to the open file description, so threads of one process exclude each
    other too, and the kernel releases the lock when a holder dies.
    """
    folder = sqlite_lock_dir(engine)
    if folder is None:
        with _memory_locks_guard:
            lock = _memory_locks.setdefault(f"{id(engine)}:{name}", threading.Lock())
        with lock:
            yield
        return
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def process_lock(engine: sa.Engine, name: str) -> Iterator[None]:
    """A lock named `name` shared by every process using the same warehouse."""
    if engine.dialect.name == "postgresql":
        with pg_advisory_lock(engine, name):
            yield
    else:
        with sqlite_file_lock(engine, name):
            yield
