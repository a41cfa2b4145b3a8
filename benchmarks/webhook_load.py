"""Scenario 8's moving parts: the receiver process, a load generator and the webhook sensor loop.

- `ReceiverProcess`: `hostaway-pipeline webhooks serve --port 0` (the OS picks the port, read
  from uvicorn's start line), one worker, on the benchmark warehouse.
- `post_load`: N distinct events posted by C threads (one keep-alive session each); the ack
  latency of every request.
- `SensorLoop`: the real `webhook_sensor` evaluated every `interval_s` as the daemon does it
  (`evaluate_tick`), each requested run executed in process on a throwaway instance. A daemon
  would launch the run in a fresh run worker (its import time is measured separately).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]


class ReceiverProcess:
    """The receiver in its own process; use as a context manager."""

    def __init__(self, db_url: str, secret: str) -> None:
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open for the process lifetime
            prefix="receiver-", suffix=".log", delete=False
        )
        # As in production: the receiver secret, no Fernet key (the receiver reads no sealed secret).
        env = {**{k: v for k, v in os.environ.items() if k != "HOSTAWAY_SECRET_KEY"},
               "HOSTAWAY_DATABASE_URL": db_url, "HOSTAWAY_WEBHOOK_SECRET": secret,
               "HOSTAWAY_HOME": tempfile.mkdtemp(prefix="receiver-home-")}  # fmt: skip
        exe = str(Path(sys.executable).with_name("hostaway-pipeline"))
        self.proc = subprocess.Popen([exe, "webhooks", "serve", "--port", "0"], env=env, cwd=ROOT,
                                     stdout=self._log, stderr=subprocess.STDOUT)  # fmt: skip
        self.port = 0

    def __enter__(self) -> ReceiverProcess:
        deadline = time.monotonic() + 300
        while not self.port:
            text = Path(self._log.name).read_text(errors="replace")
            found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", text)
            if found:
                self.port = int(found.group(1))
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the receiver did not start:\n{text[-2000:]}")
            else:
                time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/hostaway"

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()
        os.unlink(self._log.name)


def post_load(url: str, auth: dict[int, tuple[str, str]], events: list[dict[str, Any]],
              concurrency: int) -> tuple[float, list[float], dict[int, int]]:  # fmt: skip
    """Post every event with `concurrency` threads, each with its account's credential (`auth`
    by account id): (wall s, ack latencies s, status counts)."""
    local = threading.local()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def post(event: dict[str, Any]) -> float:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        started = time.perf_counter()
        reply = local.session.post(url, json=event, auth=auth[event["accountId"]], timeout=30)
        took = time.perf_counter() - started
        with lock:
            statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
        return took

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(post, events))
    return time.perf_counter() - started, latencies, statuses


class SensorLoop:
    """Evaluate `webhook_sensor` every `interval_s` and execute its runs, in a thread."""

    def __init__(self, defs: Any, interval_s: float) -> None:
        self.defs, self.interval_s = defs, interval_s
        self.ticks = self.runs = self.failed_runs = 0
        self.api_requests = 0  # as the runs' step metadata reports them
        self.run_s: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sensor-loop", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> SensorLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=600)
        if self.error is not None:
            raise RuntimeError(f"the sensor loop failed: {self.error!r}")

    def _loop(self) -> None:
        import dagster as dg

        repo = self.defs.get_repository_def()
        sensor = repo.get_sensor_def("webhook_sensor")
        job = self.defs.resolve_job_def("hostaway_webhooks")
        resources = {k: v for k, v in repo.get_top_level_resources().items()
                     if k in sensor.required_resource_keys}  # fmt: skip
        try:
            with dg.instance_for_test() as instance:
                while not self._stop.is_set():
                    due = time.monotonic() + self.interval_s
                    with dg.build_sensor_context(instance_ref=instance.get_ref(),
                                                 definitions=self.defs,
                                                 resources=resources) as context:  # fmt: skip
                        data = sensor.evaluate_tick(context)
                    self.ticks += 1
                    for request in data.run_requests or []:
                        self._execute(job, instance, request)
                    self._stop.wait(max(0.0, due - time.monotonic()))
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def _execute(self, job: Any, instance: Any, request: Any) -> None:
        started = time.perf_counter()
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        result = job.execute_in_process(run_config={**request.run_config, **quiet},
                                        instance=instance, tags=dict(request.tags),
                                        raise_on_error=False)  # fmt: skip
        self.run_s.append(time.perf_counter() - started)
        self.runs += 1
        self.failed_runs += 0 if result.success else 1
        for event in result.all_events:
            if event.event_type_value == "STEP_OUTPUT":
                meta = event.event_specific_data.metadata
                if "api_requests" in meta:
                    self.api_requests += int(meta["api_requests"].value)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def import_seconds() -> float:
    """Wall seconds a fresh process takes to import the definitions (a run worker's start)."""
    code = ("import time; t = time.perf_counter(); import hostaway_pipeline.definitions; "
            "print(time.perf_counter() - t)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=300)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])
