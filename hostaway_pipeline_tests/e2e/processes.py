"""Long-running processes for end-to-end tests: each in its own session, stopped with its children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

import psutil

T = TypeVar("T")


class Service:
    """A command started in a new session (its own process group), logging to a file.

    Dagster's webserver and daemon start code servers, which start run workers, which start step
    processes; all of them stay in the session unless they leave it, so stopping the group stops
    them. `stop` also checks every descendant seen while running, in case one did leave.
    """

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
    ):
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file: IO[bytes] = log.open("wb")
        self.popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid  # also the session and process group id
        self._seen: dict[int, float] = {}

    def _session(self) -> list[psutil.Process]:
        members = []
        for proc in psutil.process_iter(["status"]):
            try:
                if os.getsid(proc.pid) == self.pid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    members.append(proc)
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue
        return members

    def remember_descendants(self) -> None:
        """Note every current descendant, so `stop` can prove each one is gone."""
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            try:
                self._seen[child.pid] = child.create_time()
            except psutil.NoSuchProcess:
                continue

    def _survivors(self) -> list[psutil.Process]:
        alive = {p.pid: p for p in self._session()}
        for pid, created in self._seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    alive[pid] = proc
            except psutil.NoSuchProcess:
                continue
        return list(alive.values())

    def stop(self, grace_s: float = 20.0) -> list[str]:
        """SIGTERM the group, SIGKILL what is left after `grace_s`; the survivors (should be [])."""
        self.remember_descendants()
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            for proc in [*self._survivors(), None]:
                try:
                    if proc is None:
                        os.killpg(self.pid, sig)
                    else:
                        proc.send_signal(sig)
                except (ProcessLookupError, PermissionError, psutil.Error):
                    pass
            deadline = time.monotonic() + wait_s
            while self._survivors() and time.monotonic() < deadline:
                time.sleep(0.2)
            if not self._survivors():
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self._log_file.close()
        return [f"{p.pid} {' '.join(p.cmdline()[:4])}" for p in self._survivors()]

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def wait_for(
    probe: Callable[[], T | None],
    timeout_s: float,
    what: str,
    every_s: float = 1.0,
    then: Callable[[], str] | None = None,
) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout_s`,
    with what `then` reads at that moment (the services' logs) if given."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = f"\n{then()}" if then else ""
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}{shown}")
        time.sleep(every_s)
