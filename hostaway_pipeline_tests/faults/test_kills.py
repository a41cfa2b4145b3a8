"""SIGKILL a sync process at random points, many times, then run again: nothing is lost.

Each round changes the sandbox a little, starts a full or incremental run of every stream in a
process of its own, and kills it either when the sandbox has answered a random number of its
requests (the process is waiting on HTTP, or writing the page it just got) or after a random time
(anywhere: mid-transaction, mid-token-issue, between streams). After every kill the invariants of
`support` must hold; at the end one incremental run must converge (but for deleted listings, which
only a full run can see), and a full run must mirror the sandbox exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from hostaway_pipeline.sync.engine import SyncMode
from hostaway_pipeline_tests.faults.mutations import Changes, mutate
from hostaway_pipeline_tests.faults.support import (
    Wired,
    assert_converged,
    assert_invariants,
    client_config,
    rounds_until,
    sync_all,
)
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(0)  # the strictest setting: only Hostaway's one-second granularity is allowed
REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 0.6  # interpreter and imports before a worker sends its first request


@dataclass
class KillTally:
    rounds: int = 0
    killed_at_request: int = 0
    killed_at_time: int = 0
    finished_before_kill: int = 0
    changes: int = 0
    invariant_checks: int = 0
    requests: dict[str, list[int]] = field(default_factory=lambda: {"full": [], "incremental": []})
    durations: dict[str, list[float]] = field(
        default_factory=lambda: {"full": [], "incremental": []}
    )

    @property
    def kills(self) -> int:
        return self.killed_at_request + self.killed_at_time


def run_worker(
    w: Wired, server: SandboxServer, account_id: int, mode: str, kill: tuple[str, float] | None
) -> tuple[int, str, int, float]:
    """Run the worker; kill it at ("request", n) or ("time", seconds). (rc, stderr, requests, s)."""
    job = {
        "db": w.url,
        "key": w.key,
        "account": account_id,
        "mode": mode,
        "lookback_s": LOOKBACK.total_seconds(),
        "client": dataclasses.asdict(client_config(server)),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "hostaway_pipeline_tests.faults.worker"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = 0
    lock = threading.Lock()

    def hook(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        nonlocal seen
        with lock:
            seen += 1
            if kill is not None and kill[0] == "request" and seen == int(kill[1]):
                os.kill(proc.pid, signal.SIGKILL)

    def kill_now() -> None:
        if proc.poll() is None:
            proc.kill()

    timer = None
    if kill is not None and kill[0] == "time":
        timer = threading.Timer(kill[1], kill_now)
        timer.start()
    server.hooks.before_response = hook
    started = time.monotonic()
    try:
        _, stderr = proc.communicate(json.dumps(job), timeout=120)
    finally:
        server.hooks.before_response = None
        if timer is not None:
            timer.cancel()
    return proc.returncode, stderr, seen, time.monotonic() - started


def kill_campaign(
    w: Wired, server: SandboxServer, account_id: int, rng: random.Random, rounds: int,
    tally: KillTally, deadline: float | None = None,
    until: Callable[[KillTally], bool] | None = None, max_rounds: int = 0,
) -> None:  # fmt: skip
    """`rounds` kill rounds (or until `deadline`, a time.monotonic()), then converge and compare.

    With `until`, rounds go on past `rounds` (up to `max_rounds`) until the tally satisfies it: a
    random kill point can land after the run has finished, so "enough kills" is waited for, not
    hoped for."""
    changes = Changes()
    rc, err, n, took = run_worker(w, server, account_id, "full", None)
    assert rc == 0, err
    tally.requests["full"].append(n)
    tally.durations["full"].append(took)
    for _ in rounds_until(rounds, lambda: until is None or until(tally), max_rounds):
        if deadline is not None and time.monotonic() > deadline:
            break
        before = changes.ops
        mutate(server, account_id, rng, rng.randint(0, 6), changes)
        tally.changes += changes.ops - before
        mode = rng.choice(["full", "incremental", "incremental"])
        if rng.random() < 0.5:
            kill = ("request", float(rng.randint(1, max(tally.requests[mode] or [40]))))
        else:
            longest = max(tally.durations[mode] or [3.0])
            kill = ("time", rng.uniform(STARTUP_S, longest))
        rc, err, n, took = run_worker(w, server, account_id, mode, kill)
        tally.rounds += 1
        if rc == 0:
            tally.finished_before_kill += 1
            tally.requests[mode].append(n)
            tally.durations[mode].append(took)
        else:
            assert rc == -signal.SIGKILL, f"the run failed rather than being killed: {err}"
            if kill[0] == "request":
                tally.killed_at_request += 1
            else:
                tally.killed_at_time += 1
        assert_invariants(w.engine, server, account_id, LOOKBACK)
        tally.invariant_checks += 1
    # One uninterrupted incremental run catches up with everything but deletions ...
    sync_all(w, server, account_id, SyncMode.INCREMENTAL, LOOKBACK)
    assert_converged(w.engine, server, account_id, ignore=changes.deleted_listings)
    # ... and a full run with those too.
    sync_all(w, server, account_id, SyncMode.FULL, LOOKBACK)
    assert_converged(w.engine, server, account_id)
    assert_invariants(w.engine, server, account_id, LOOKBACK)


def test_sync_killed_at_random_points_converges_on_the_next_run(
    wired: Wired, sandbox: SandboxServer, rng: random.Random
) -> None:
    account = sandbox.state.account_ids()[0]
    tally = KillTally()
    kill_campaign(
        wired, sandbox, account, rng, rounds=8, tally=tally,
        until=lambda t: t.kills >= 4, max_rounds=40,
    )  # fmt: skip
    print(tally)
    assert tally.kills >= 4  # runs really were interrupted (at least 4 of up to 40 rounds)
    assert sandbox.stats.by_status().get(429, 0) == 0  # the shared budget outlives killed runs


@pytest.mark.soak
def test_soak_kills(wired: Wired, sandbox: SandboxServer, rng: random.Random) -> None:
    from hostaway_pipeline_tests.faults.soak import record, soak_deadline

    account = sandbox.state.account_ids()[0]
    tally = KillTally()
    deadline = soak_deadline(share=0.3)
    while time.monotonic() < deadline:
        kill_campaign(wired, sandbox, account, rng, rounds=25, tally=tally, deadline=deadline)
    record("kills", {**dataclasses.asdict(tally), "kills": tally.kills,
                     "http_429": sandbox.stats.by_status().get(429, 0)})  # fmt: skip
    assert sandbox.stats.by_status().get(429, 0) == 0
