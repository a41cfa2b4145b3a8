"""`hostaway-pipeline ui` (what `./dev ui` runs) stops everything it started on SIGTERM and SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from hostaway_pipeline_tests.e2e.conftest import ARTIFACTS, BIN, ROOT, _free_port
from hostaway_pipeline_tests.e2e.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STOP_BOUND_S = 40.0  # the command's own grace (15 s) plus SIGKILL and a loaded 2-CPU machine


def _descendants(pid: int) -> dict[int, tuple[float, str]]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    found = {}
    for child in children:
        with contextlib.suppress(psutil.Error):
            found[child.pid] = (child.create_time(), " ".join(child.cmdline()[:5]))
    return found


def _alive(seen: dict[int, tuple[float, str]]) -> list[str]:
    alive = []
    for pid, (created, cmd) in seen.items():
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {cmd}")
    return alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ui_stops_dagster_dev_and_every_child_on_a_signal(sig: int, tmp_path: Path) -> None:
    port, sandbox_port = _free_port(), _free_port()
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "HOSTAWAY_HOME": str(tmp_path / "demo"),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / f"ui-{signal.Signals(sig).name}.log").open("wb")
    ui = subprocess.Popen(
        [str(BIN / "hostaway-pipeline"), "ui", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    seen: dict[int, tuple[float, str]] = {}
    try:

        def up() -> bool:
            seen.update(_descendants(ui.pid))
            try:
                return requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(up, 120, "the UI to answer /server_info")

        def all_started() -> bool:
            seen.update(_descendants(ui.pid))
            commands = " | ".join(cmd for _, cmd in seen.values())
            return all(
                part in commands for part in ("dagster._daemon", "dagster_webserver", "grpc")
            )

        wait_for(all_started, 90, "the daemon, webserver and code server processes")
        os.kill(ui.pid, sig)  # the command only, as a terminal or a supervisor would
        started = time.monotonic()
        ui.wait(timeout=STOP_BOUND_S)
        wait_for(lambda: not _alive(seen), STOP_BOUND_S, "every child to exit", every_s=0.2)
        took = time.monotonic() - started
        assert ui.returncode == 0
        assert took < STOP_BOUND_S
    finally:
        for pid in seen:  # a failed test must not leave a UI running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if ui.poll() is None:
            ui.kill()
        log.close()
    assert not _alive(seen)
