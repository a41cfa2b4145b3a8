"""The API misbehaves: bursts of 429s, 5xx, timeouts, dropped connections, truncated JSON, HTML.

Bursts shorter than the retry budget must be absorbed (the run completes and mirrors the sandbox).
Longer ones must end the run with a typed, retryable error that names the account, the endpoint
and the request id, having written only whole pages and left the failing stream's watermark as it
was; once the API recovers, the next run converges.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from hostaway_pipeline.client.errors import HostawayError, RateLimitedError
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline_tests.faults.support import (
    Wired,
    assert_converged,
    forget_account_data,
    half_written_problems,
    rounds_until,
    state_rows,
    sync_all,
)
from hostaway_pipeline_tests.support.wiring import ENGINE_STREAMS
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.faults import KINDS

# Faults a client must retry through; `401`/`403` are the credentials tests' business.
TRANSIENT = [k for k in KINDS if k not in ("400", "401", "403")]  # 400: a final answer
MALFORMED = {"truncated", "html200"}
# One request at a time, so that a burst lands on the attempts of one request only.
SEQUENTIAL: dict[str, Any] = {"read_timeout_s": 0.4, "max_attempts": 6, "max_concurrency": 1}
RATES = ["error_rate_5xx", "truncated_json_rate", "html_error_rate", "drop_connection_rate",
         "timeout_rate"]  # fmt: skip
Hook = Callable[[str, str, dict[str, str], "int | None"], None]


@dataclass
class FaultTally:
    runs: int = 0
    failed_runs: int = 0
    faults_served: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def _count_faults(server: SandboxServer, tally: FaultTally) -> None:
    tally.faults_served.update(r.fault for r in server.stats.log if r.fault)
    server.stats.reset()


def test_bursts_of_every_fault_kind_are_absorbed_by_retries(
    wired: Wired, sandbox: SandboxServer, rng: random.Random
) -> None:
    account = sandbox.state.account_ids()[0]
    sandbox.faults.timeout_s = 1.0
    lock = threading.Lock()
    kinds = rng.sample(TRANSIENT, len(TRANSIENT))  # every kind, in a random order, round robin
    queued = cooldown = timeouts = 0
    queued_kinds: list[str] = []

    def burst(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        # One request must never meet two bursts. Hooks run for answered requests, and the
        # faulted attempts of truncated and timeout bursts are answered too, so wait for the
        # burst's own answers before the next burst. A timeout's answer comes late (after the
        # client gave up and retried): until every timed-out attempt has been answered, a hook
        # may be one of those late answers, so it neither counts nor queues (it did, and on a
        # loaded machine a late answer queued a burst onto the retries of another burst).
        nonlocal queued, cooldown, timeouts
        with lock:
            late = timeouts - sum(1 for r in list(sandbox.stats.log) if r.fault == "timeout")
            if late > 0:
                return
            cooldown = max(0, cooldown - 1)
            # Every kind once first (so each is served whatever the dice say), then at random.
            due = queued < len(kinds) or rng.random() < 0.5
            if cooldown == 0 and sandbox.faults.pending() == 0 and due:
                kind = kinds[queued % len(kinds)]
                size = rng.randint(1, 2) if kind in MALFORMED else rng.randint(1, 4)
                sandbox.faults.queue(kind, size)
                timeouts += size if kind == "timeout" else 0
                queued_kinds.append(kind)
                queued += 1
                cooldown = size + 1

    sandbox.hooks.before_response = burst
    try:
        # Pages of 2: enough requests that every kind gets its burst, whatever the dice say.
        sync_all(wired, sandbox, account, SyncMode.FULL, **SEQUENTIAL, page_size=2)
        sync_all(wired, sandbox, account, SyncMode.INCREMENTAL, **SEQUENTIAL, page_size=2)
    finally:
        sandbox.hooks.before_response = None
    served = Counter(r.fault for r in sandbox.stats.log if r.fault)
    assert set(queued_kinds) == set(TRANSIENT), queued_kinds
    # Every burst met a request, except a last one queued when no request was left.
    unmet = {queued_kinds[-1]} if sandbox.faults.pending() else set()
    assert set(served) | unmet == set(TRANSIENT) and len(served) >= 9, served
    assert_converged(wired.engine, sandbox, account)


def failing_campaign(
    w: Wired, server: SandboxServer, account_id: int, rng: random.Random, rounds: int,
    tally: FaultTally, min_failed_runs: int = 0, max_rounds: int = 0,
) -> None:  # fmt: skip
    """Full runs into an empty warehouse under random fault rates and a tiny retry budget.

    Rounds go on past `rounds` (up to `max_rounds`) until `min_failed_runs` runs have failed:
    random faults can all be absorbed by retries, so failures are waited for, not hoped for."""
    server.faults.timeout_s = 0.6
    for _ in rounds_until(rounds, lambda: tally.failed_runs >= min_failed_runs, max_rounds):
        server.faults.clear()
        kinds = rng.sample(RATES, rng.randint(1, 2))
        server.faults.update({kind: rng.uniform(0.02, 0.12) for kind in kinds})
        server.faults.include_token_endpoint = rng.random() < 0.3
        storm_at = rng.randint(1, 60) if rng.random() < 0.4 else 0
        server.hooks.before_response = _storm_at(server, storm_at, rng.randint(2, 6))
        for spec in ENGINE_STREAMS:
            before = state_rows(w.engine, account_id)[spec.name]
            config = {"max_attempts": rng.randint(1, 3), "malformed_retries": rng.randint(0, 1),
                      "read_timeout_s": 0.3}  # fmt: skip
            tally.runs += 1
            try:
                with w.client(server, account_id, **config) as client:
                    SyncEngine(client, w.engine, account_id).run(spec, SyncMode.FULL, timedelta(0))
            except HostawayError as exc:
                tally.failed_runs += 1
                tally.errors[type(exc).__name__] += 1
                assert exc.retryable, f"{type(exc).__name__} is not retryable: {exc}"
                assert exc.account_id == account_id and exc.endpoint.startswith("/")
                assert exc.request_id, f"no request id on {exc!r}"
                assert f"account {account_id}" in str(exc) and exc.endpoint in str(exc)
                assert state_rows(w.engine, account_id)[spec.name] == before
                break
            finally:
                problems = half_written_problems(w.engine, server, account_id)
                assert not problems, problems
        server.hooks.before_response = None
        _count_faults(server, tally)
    server.faults.clear()
    sync_all(w, server, account_id, SyncMode.FULL)
    assert_converged(w.engine, server, account_id)


def _storm_at(server: SandboxServer, at: int, size: int) -> Hook:
    """A hook queueing a 429 storm of `size` after the `at`-th request (never when `at` is 0)."""
    seen = 0
    lock = threading.Lock()

    def hook(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        nonlocal seen
        with lock:
            seen += 1
            if seen == at:
                server.faults.storm_429(size)

    return hook


def test_faults_beyond_the_retry_budget_fail_typed_and_leave_only_whole_pages(
    wired: Wired, sandbox: SandboxServer, rng: random.Random
) -> None:
    account = sandbox.state.account_ids()[0]
    tally = FaultTally()
    failing_campaign(
        wired, sandbox, account, rng, rounds=8, tally=tally, min_failed_runs=2, max_rounds=40
    )
    print(tally)
    assert tally.failed_runs >= 2  # runs really did fail (at least 2 in up to 40 rounds)


def test_a_retry_after_longer_than_we_wait_hands_the_wait_to_the_scheduler(
    wired: Wired, make_sandbox: object, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    before = state_rows(wired.engine, account)
    sandbox.retry_after = True
    sandbox.faults.storm_429(1)
    with pytest.raises(RateLimitedError) as raised:
        sync_all(wired, sandbox, account, SyncMode.INCREMENTAL, retry_after_max_s=0.5)
    assert raised.value.retryable and raised.value.retry_after_s == 1.0
    assert state_rows(wired.engine, account) == before


@pytest.mark.soak
def test_soak_api_faults(wired: Wired, sandbox: SandboxServer, rng: random.Random) -> None:
    from hostaway_pipeline_tests.faults.soak import record, soak_deadline

    account = sandbox.state.account_ids()[0]
    tally = FaultTally()
    deadline = soak_deadline(share=0.2)
    campaigns = 0
    while time.monotonic() < deadline:
        forget_account_data(wired.engine, account)
        failing_campaign(wired, sandbox, account, rng, rounds=10, tally=tally)
        campaigns += 1
    record("api_faults", {"campaigns": campaigns, "runs": tally.runs,
                          "failed_runs": tally.failed_runs, "faults": dict(tally.faults_served),
                          "errors": dict(tally.errors)})  # fmt: skip
