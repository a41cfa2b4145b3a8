"""Ten accounts sync at once, in threads (the soak: in processes), against one sandbox enforcing Hostaway's
real limits (15 per IP, 20 per account) on a 1 s window, sharing the warehouse's rate budget.

No run may deadlock, the sandbox must never answer 429, every account must mirror its data, and
an eleventh account, synced before and not part of the crowd, must not have a row touched.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.sync.engine import SyncMode
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline_tests.faults.conftest import MakeSandbox
from hostaway_pipeline_tests.faults.mutations import Changes, mutate
from hostaway_pipeline_tests.faults.support import (
    TABLES,
    Wired,
    assert_converged,
    client_config,
    sync_all,
    wire,
)
from hostaway_sandbox import SandboxServer

REPO_ROOT = Path(__file__).resolve().parents[2]
CROWD = 10
# Requests are spaced (window + slack) / limit apart; a request delayed in transit by more than the
# slack can land in the server's window with 15 others. In production the slack is 0.3 s (3 % of
# 10 s); the same 0.3 s here, where ten clients and the sandbox share two busy CPUs.
SLACK: dict[str, Any] = {"min_slack_s": 0.3}


@dataclass
class CrowdTally:
    rounds: int = 0
    runs: int = 0
    requests: int = 0
    http_429: int = 0
    seconds: float = 0.0


def fingerprint(engine: sa.Engine, account_id: int) -> dict[str, list[tuple[object, ...]]]:
    """Every row of an account with its bookkeeping, to prove nobody touched it."""
    out = {}
    with engine.connect() as conn:
        for name in (*TABLES, "sync_state"):
            table = schema.table(name)
            query = sa.select(table).where(table.c.account_id == account_id)
            out[name] = sorted(tuple(r) for r in conn.execute(query))
    return out


def crowd_round(
    w: Wired, server: SandboxServer, accounts: list[int], mode: str, processes: bool
) -> float:
    """One run per account, all at once, in processes (like Dagster's steps) or in threads each
    with its own database engine (as quick, without ten interpreters starting); seconds taken."""
    # The sandbox shares this process: a full garbage collection (this process has run every
    # test before this one) would stop it and the client threads alike, and the requests sent
    # during the pause would all arrive after it, closer together than any limiter spaced them.
    gc.collect()
    gc.freeze()
    started = time.monotonic()
    try:
        if processes:
            _in_processes(w, server, accounts, mode)
        else:
            _in_threads(w, server, accounts, mode)
    finally:
        gc.unfreeze()
    return time.monotonic() - started


def _in_threads(w: Wired, server: SandboxServer, accounts: list[int], mode: str) -> None:
    def one(aid: int) -> None:
        engine = db.create_engine(w.url)
        try:
            mine = Wired(w.url, w.key, engine, w.box, AccountRepo(engine, w.box))
            sync_all(mine, server, aid, SyncMode(mode), page_size=100, **SLACK)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(len(accounts)) as pool:
        futures = {aid: pool.submit(one, aid) for aid in accounts}
        for aid, future in futures.items():
            try:
                future.result(timeout=120)
            except FutureTimeout:
                pytest.fail(f"account {aid}: no progress in 120 s (deadlock?)")


def _in_processes(w: Wired, server: SandboxServer, accounts: list[int], mode: str) -> None:
    config = dataclasses.asdict(client_config(server, page_size=100, **SLACK))
    procs = []
    for aid in accounts:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hostaway_pipeline_tests.faults.worker"],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        job = {"db": w.url, "key": w.key, "account": aid, "mode": mode, "lookback_s": 0}
        assert proc.stdin is not None
        proc.stdin.write(json.dumps({**job, "client": config}))
        proc.stdin.close()
        procs.append(proc)
    failures = []
    for aid, proc in zip(accounts, procs, strict=True):
        try:
            _, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"account {aid}: no progress in 180 s (deadlock?)")
        if proc.returncode != 0:
            failures.append(f"account {aid}: {err.strip()[-500:]}")
    assert not failures, failures


def crowd_campaign(
    w: Wired, server: SandboxServer, rng: random.Random, rounds: int, tally: CrowdTally,
    processes: bool,
) -> None:  # fmt: skip
    *crowd, bystander = server.state.account_ids()
    sync_all(w, server, bystander, SyncMode.FULL)
    untouched = fingerprint(w.engine, bystander)
    server.stats.reset()
    for number in range(rounds):
        changes = Changes()
        for aid in crowd:
            mutate(server, aid, rng, rng.randint(0, 3), changes, deletes=False)
        mode = "full" if number == 0 else rng.choice(["full", "incremental"])
        took = crowd_round(w, server, crowd, mode, processes)
        tally.rounds += 1
        tally.runs += len(crowd)
        tally.seconds += took
        for aid in crowd:
            assert_converged(w.engine, server, aid)
    tally.requests += server.stats.total
    tally.http_429 += server.stats.by_status().get(429, 0)
    assert server.stats.by_status().get(429, 0) == 0, server.stats.by_status()
    assert bystander not in server.stats.by_account()
    assert fingerprint(w.engine, bystander) == untouched


def test_ten_accounts_at_once_within_the_limits_and_their_own_rows(
    fresh_pg_url: str, secret_key: str, make_sandbox: MakeSandbox, rng: random.Random
) -> None:
    server = make_sandbox(accounts=CROWD + 1, listings=3, reservations=8,
                          rate_limit_per_ip=15, rate_limit_per_account=20)  # fmt: skip
    w = wire(fresh_pg_url, secret_key, server)
    tally = CrowdTally()
    crowd_campaign(w, server, rng, rounds=2, tally=tally, processes=False)
    print(tally)
    w.engine.dispose()


@pytest.mark.soak
def test_soak_crowd(
    fresh_pg_url: str, secret_key: str, make_sandbox: MakeSandbox, rng: random.Random
) -> None:
    from hostaway_pipeline_tests.faults.soak import record, soak_deadline

    server = make_sandbox(accounts=CROWD + 1, listings=5, reservations=20,
                          rate_limit_per_ip=15, rate_limit_per_account=20)  # fmt: skip
    w = wire(fresh_pg_url, secret_key, server)
    tally = CrowdTally()
    deadline = soak_deadline(share=0.15)
    while time.monotonic() < deadline:
        crowd_campaign(w, server, rng, rounds=3, tally=tally, processes=True)
    record("crowd", dataclasses.asdict(tally))
    w.engine.dispose()
