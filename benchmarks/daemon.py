"""A real Dagster deployment for scenario 7: `dagster-daemon run` on a PostgreSQL instance.

What it measures from outside, without touching the processes it measures:
- CPU of the daemon's session (the daemon, its code server, and the run workers the code server
  spawns per run), from /proc through psutil: each live member's own time plus the time of the
  children it has reaped (the code server reaps every run worker), so a snapshot taken while no
  run is in flight counts every process that ever ran;
- CPU of the PostgreSQL backends serving the instance and warehouse databases, sampled from
  `pg_stat_activity` twice a second (an estimate: up to half a second of a backend's last work
  may be missed);
- rows and bytes of every table of the instance database, and the compute logs' bytes on disk.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import psutil
import sqlalchemy as sa

T = TypeVar("T")


def _cpu(proc: psutil.Process, with_children: bool = True) -> float:
    t = proc.cpu_times()
    own = t.user + t.system
    return own + (t.children_user + t.children_system if with_children else 0.0)


@dataclass
class CpuSnapshot:
    total_s: float  # every process of the session, live or reaped
    run_workers_s: float  # processes spawned by the code server (one per run)
    at: float = field(default_factory=time.monotonic)


class Daemon:
    """`dagster-daemon run -w workspace.yaml` in its own session, logging to a file."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path):
        self.log = log
        self._log_file: IO[bytes] = log.open("wb")
        self.popen = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.pid = self.popen.pid
        self._lock = threading.Lock()
        self._reaped: dict[tuple[int, float], float] = {}
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._loop, daemon=True)
        self._sampler.start()

    def _session(self) -> list[psutil.Process]:
        members = []
        for proc in psutil.process_iter():
            try:
                if os.getsid(proc.pid) == self.pid and proc.status() != psutil.STATUS_ZOMBIE:
                    members.append(proc)
            except (OSError, psutil.Error):
                continue
        return members

    def _sample(self) -> CpuSnapshot:
        total = live_workers = 0.0
        members = self._session()
        pids = {p.pid for p in members}
        for proc in members:
            try:
                total += _cpu(proc)
                cmdline = " ".join(proc.cmdline())
                if "api grpc" in cmdline:
                    # Run workers this code server has reaped. The daemon replaces code servers
                    # now and then, so each one's figure is kept after it is gone.
                    t = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
                    reaped = t.children_user + t.children_system
                    with self._lock:
                        self._reaped[key] = max(self._reaped.get(key, 0.0), reaped)
                elif "spawn_main" in cmdline and proc.ppid() in pids:
                    live_workers += _cpu(proc, with_children=False)  # a run still running
            except psutil.Error:
                continue
        with self._lock:
            workers = live_workers + sum(self._reaped.values())
        return CpuSnapshot(total, workers)

    def _loop(self) -> None:
        while not self._stop_sampling.wait(0.5):
            self._sample()

    def cpu(self) -> CpuSnapshot:
        """CPU-s so far: the whole session, and the run workers alone (reaped + live)."""
        return self._sample()

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM the session's group, SIGKILL what is left after `grace_s`."""
        self._stop_sampling.set()
        self._sampler.join(timeout=5)
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
            deadline = time.monotonic() + wait_s
            while self._session() and time.monotonic() < deadline:
                time.sleep(0.2)
            if not self._session():
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self._log_file.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


class BackendSampler:
    """Samples the CPU of the PostgreSQL backends connected to `databases`, in a thread."""

    def __init__(self, admin_url: str, databases: Sequence[str], every_s: float = 0.5) -> None:
        self._engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._databases = list(databases)
        self._every_s = every_s
        self._first: dict[tuple[int, float], float] = {}
        self._last: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> BackendSampler:
        self._sample(baseline=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._engine.dispose()

    def _sample(self, baseline: bool = False) -> None:
        query = sa.text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:d)")
        with self._engine.connect() as conn:
            pids = [int(p) for p in conn.scalars(query, {"d": self._databases})]
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                key, used = (pid, proc.create_time()), _cpu(proc, with_children=False)
            except psutil.Error:
                continue
            with self._lock:
                self._first.setdefault(key, used if baseline else 0.0)
                self._last[key] = used

    def _loop(self) -> None:
        while not self._stop.wait(self._every_s):
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._sample()

    def total_s(self) -> float:
        """CPU-s the sampled backends used since the sampler started."""
        with self._lock:
            return sum(self._last[k] - self._first[k] for k in self._last)


def postgres_server_cpu_s() -> float | None:
    """CPU-s of every PostgreSQL backend that has exited so far (the postmaster's reaped children).

    Catches what sampling cannot: Dagster's storage opens a connection per query (NullPool), and
    each short-lived backend costs its start-up. Counts every user of the server, not only ours.
    """
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "postgres" and proc.parent().name() != "postgres":
                t = proc.cpu_times()
                return float(t.children_user + t.children_system)
        except (psutil.Error, AttributeError):
            continue
    return None


def table_sizes(engine: sa.Engine) -> dict[str, tuple[int, int]]:
    """Table -> (rows, bytes with indexes and TOAST) of the instance database's public schema."""
    sizes = {}
    with engine.connect() as conn:
        tables = conn.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).all()
        for table in tables:
            rows = int(conn.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) or 0)
            size = int(conn.scalar(sa.text(f"SELECT pg_total_relation_size('\"{table}\"')")) or 0)
            sizes[table] = (rows, size)
    return sizes


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def wait_for(probe: Callable[[], T | None], timeout_s: float, what: str, every_s: float = 1.0) -> T:
    """Poll `probe` until it returns something truthy; raise naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)
