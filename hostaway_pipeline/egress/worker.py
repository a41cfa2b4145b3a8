"""The Celery worker of one egress: its command line, its config module, and its heartbeat.

`hostaway-pipeline worker --egress-id ID` (cli/worker.py) checks the egress, then runs
`celery -A dagster_celery.app worker -Q dagster,egress-ID` as a child (what `dagster-celery
worker start -q dagster,egress-ID` runs, without the extra process) and, while it runs, records
the egress in the warehouse every `heartbeat_s` (placement routes runs only to egresses whose
workers report; the start check of other workers compares addresses against it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from hostaway_pipeline.egress.placement import queue_of

CONFIG_MODULE = "dagster_celery_config"  # what dagster_celery.app imports when present
DEFAULT_QUEUE = "dagster"


def celery_argv(
    egress_id: str, concurrency: int, max_tasks_per_child: int, loglevel: str = "INFO"
) -> list[str]:
    """The worker's command: the egress's queue and the default one (runs with no egress)."""
    return [
        sys.executable, "-m", "celery", "-A", "dagster_celery.app", "worker",
        "--prefetch-multiplier=1", "--loglevel", loglevel,
        # One -Q with both names: dagster-celery's `-q a -q b` keeps only the last one.
        "-Q", f"{DEFAULT_QUEUE},{queue_of(egress_id)}",
        "-n", f"{queue_of(egress_id)}-{os.getpid()}@%h",
        "-c", str(concurrency),
        # Runs share long-lived prefork children: recycle them now and then.
        "--max-tasks-per-child", str(max_tasks_per_child),
        "--without-gossip", "--without-mingle",
        # Imported once by the worker's main process: every prefork child is forked warm (the
        # definitions hold no connection until a run uses one).
        "-I", "hostaway_pipeline.definitions",
    ]  # fmt: skip


def write_config(settings: Mapping[str, Any]) -> Path:
    """A private folder holding `dagster_celery_config.py` (broker URL and the launcher's
    config_source), to put on the worker's PYTHONPATH; the broker URL may hold a password."""
    folder = Path(tempfile.mkdtemp(prefix="hostaway-celery-"))
    lines = [f"{key} = {value!r}\n" for key, value in settings.items() if value is not None]
    path = folder / f"{CONFIG_MODULE}.py"
    path.touch(mode=0o600)
    path.write_text("".join(lines))
    return folder


def run_worker(
    argv: list[str],
    env: Mapping[str, str],
    heartbeat: Callable[[], None],
    heartbeat_s: float,
    on_exit: Callable[[], None],
) -> int:
    """Run the Celery worker until it exits or we get SIGTERM/SIGINT (passed on to it: a warm
    shutdown, running tasks finish); call `heartbeat` every `heartbeat_s` meanwhile."""
    child = subprocess.Popen(argv, env=dict(env))
    stop = threading.Event()

    def _beat() -> None:
        while not stop.wait(heartbeat_s):
            try:
                heartbeat()
            except Exception as exc:  # a warehouse hiccup must not stop the worker
                print(f"egress heartbeat failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def _forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, _forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    beat = threading.Thread(target=_beat, name="egress-heartbeat", daemon=True)
    beat.start()
    try:
        return child.wait()
    finally:
        stop.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.terminate()
            child.wait()
        on_exit()
