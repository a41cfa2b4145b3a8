"""One sync step in a fresh process, as Dagster runs it: `python -m benchmarks.worker < job.json`.

The job (JSON on stdin) names the warehouse, the API, one account, the streams to run in order,
the mode and the client settings; the Fernet key comes in HOSTAWAY_SECRET_KEY (never in argv).
Like the Dagster resources, the step migrates the warehouse (a no-op at head), reads the account's
secret, builds a client on the shared SqlTokenStore/SqlRateLimitStore and runs SyncEngine. It
prints one JSON line: timings, each stream's report, the client's counters and memory use.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ClientSettings:
    rate_limit_per_ip: int = 15
    rate_limit_per_account: int = 20
    window_s: float = 10.0
    max_concurrency: int = 4
    token_activation_delay_s: float = 1.0


@dataclass(frozen=True)
class Job:
    db_url: str
    api_url: str
    account_id: int
    streams: tuple[str, ...] = ("listings", "reservations", "messages")
    mode: str = "full"
    lookback_minutes: int = 60
    reverify_days: int = 7  # HOSTAWAY_MESSAGE_REVERIFY_DAYS (or _WEBHOOK_ for a hooked account)
    client: ClientSettings = field(default_factory=ClientSettings)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        data["streams"] = tuple(data["streams"])
        data["client"] = ClientSettings(**data["client"])
        return cls(**data)


class RssSampler:
    """Samples this process's RSS in a background thread (ru_maxrss gives the kernel's peak)."""

    def __init__(self, every_s: float = 0.1) -> None:
        import psutil

        self._proc = psutil.Process()
        self._every = every_s
        self._stop = threading.Event()
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def rss(self) -> int:
        return int(self._proc.memory_info().rss)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, self.rss())

    @contextmanager
    def running(self) -> Iterator[RssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self.rss())


def run_job(job: Job, key: str) -> dict[str, Any]:
    """Run the job's streams in this process and return the JSON-ready outcome."""
    import psutil

    from hostaway_pipeline import catalog as streams
    from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
    from hostaway_pipeline.accounts.repo import AccountRepo
    from hostaway_pipeline.accounts.secrets import SecretBox
    from hostaway_pipeline.accounts.tokens import SqlTokenStore
    from hostaway_pipeline.client import ClientConfig, HostawayClient
    from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
    from hostaway_pipeline.warehouse import db

    imported = time.time()
    specs = {s.name: s for s in (*streams.STREAMS, streams.CONVERSATIONS)}
    sampler = RssSampler()
    baseline = sampler.rss()
    engine = db.create_engine(job.db_url)
    db.upgrade(engine)  # what WarehouseResource does in every step process
    box = SecretBox(key)
    c = job.client
    config = ClientConfig(
        base_url=job.api_url,
        rate_limit_per_ip=c.rate_limit_per_ip,
        rate_limit_per_account=c.rate_limit_per_account,
        window_s=c.window_s,
        max_concurrency=c.max_concurrency,
        token_activation_delay_s=c.token_activation_delay_s,
    )
    secret = AccountRepo(engine, box).client_secret(job.account_id)
    reports: dict[str, Any] = {}
    with sampler.running():
        sync_started = time.time()
        with HostawayClient(
            job.account_id, secret, config, SqlTokenStore(engine, box), SqlRateLimitStore(engine)
        ) as client:
            sync = SyncEngine(
                client, engine, job.account_id, reverify_every=timedelta(days=job.reverify_days)
            )
            for name in job.streams:
                report = sync.run(
                    specs[name], SyncMode(job.mode), timedelta(minutes=job.lookback_minutes)
                )
                reports[name] = {
                    "duration_s": round(report.duration_s, 3),
                    "rss_peak_so_far_bytes": max(sampler.peak, sampler.rss()),
                    "api": dataclasses.asdict(report.api),
                    "tables": {t: dataclasses.asdict(v) for t, v in report.tables.items()},
                    "parents_changed": report.parents_changed,
                }
            sync_finished = time.time()
            client_stats = client.stats.as_dict()
    engine.dispose()
    return {
        "account_id": job.account_id,
        "streams": list(job.streams),
        "process_started": psutil.Process().create_time(),
        "imported": imported,
        "sync_started": sync_started,
        "sync_finished": sync_finished,
        "reports": reports,
        "client": client_stats,
        "rss_baseline_bytes": baseline,
        "rss_peak_sampled_bytes": sampler.peak,
        "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    job = Job.from_json(sys.stdin.read())
    result = run_job(job, os.environ["HOSTAWAY_SECRET_KEY"])
    print(json.dumps(result), flush=True)
    return 0


# -- launching workers from the benchmark process --------------------------------------------


class Worker:
    """A worker subprocess running one job."""

    def __init__(self, job: Job, key: str) -> None:
        env = {**os.environ, "HOSTAWAY_SECRET_KEY": key}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        self.job = job
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in wait)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert self._proc.stdin is not None
        self._proc.stdin.write(job.to_json())
        self._proc.stdin.close()

    def wait(self, timeout_s: float | None = None) -> dict[str, Any]:
        """The worker's result; RuntimeError (with its stderr) if it failed."""
        assert self._proc.stdout is not None
        try:
            out = self._proc.stdout.read()
            code = self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            raise
        self._stderr.seek(0)
        err = self._stderr.read()
        self._stderr.close()
        if code != 0 or not out.strip():
            raise RuntimeError(
                f"worker for account {self.job.account_id} {self.job.streams} exited {code}: "
                f"{err[-3000:]}"
            )
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        result["warnings"] = [ln for ln in err.splitlines() if "WARNING" in ln][-20:]
        return result


def run_parallel(jobs: list[Job], key: str) -> list[dict[str, Any]]:
    """Start every job at once (one process each) and wait for all."""
    workers = [Worker(job, key) for job in jobs]
    return [w.wait() for w in workers]


def run_steps(jobs: list[Job], key: str) -> list[dict[str, Any]]:
    """Run jobs one after the other, each in a fresh process (the steps of one Dagster run)."""
    return [Worker(job, key).wait() for job in jobs]


if __name__ == "__main__":
    sys.exit(main())
