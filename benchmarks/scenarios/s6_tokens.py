"""Scenario 6: token requests over 10 consecutive runs of 3 accounts, every step its own process.

Run 1 is a full sync, runs 2-10 incremental, as the schedules would run them. Each run starts the
three steps of each account one after the other (listings -> reservations -> messages, the asset
dependencies), the accounts side by side. Only the very first step of each account may mint a
token; every other step must find it in the warehouse.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.context import Context
from benchmarks.results_model import ScenarioResult, measure
from benchmarks.sandbox import SandboxProcess, SandboxSpec, count_status
from benchmarks.scenarios.s1_full_sync import client_for
from benchmarks.warehouse import fresh_warehouse
from benchmarks.worker import Job, run_steps

FULL = SandboxSpec(accounts=3, listings=5, reservations=20)
# Smoke: two accounts (a step process costs ~1 CPU-s; two still show each account's token kept).
SMOKE = SandboxSpec(
    accounts=2, listings=2, reservations=4, window_s=1.0, token_activation_delay_s=0.05
)
STEPS = ("listings", "reservations", "messages")


def run(ctx: Context) -> ScenarioResult:
    spec = ctx.pick(FULL, SMOKE)
    n_runs = ctx.pick(10, 2)
    client = client_for(spec)
    rows: list[dict[str, Any]] = []
    with SandboxProcess(spec) as sb:
        fresh_warehouse(ctx.db_url, ctx.key, sb.secrets).dispose()
        aids = sorted(sb.secrets)
        with ThreadPoolExecutor(len(aids)) as pool:
            for number in range(1, n_runs + 1):
                mode = "full" if number == 1 else "incremental"
                before = sb.stats()
                started = time.time()
                chains = [
                    [Job(ctx.db_url, sb.url, a, (step,), mode, client=client) for step in STEPS]
                    for a in aids
                ]
                results = [
                    r for rs in pool.map(lambda c: run_steps(c, ctx.key), chains) for r in rs
                ]
                after = sb.stats()
                sources = Counter(r["client"]["token_source"] for r in results)
                rows.append({
                    "run": number,
                    "mode": mode,
                    "step processes": len(results),
                    "requests": after["total"] - before["total"],
                    "token requests": _tokens(after) - _tokens(before),
                    "token from": ", ".join(f"{k} {v}" for k, v in sorted(sources.items())),
                    "wall_s": round(time.time() - started, 1),
                })  # fmt: skip
        stats = sb.stats()
    per_account = {int(a): int(n) for a, n in stats["token_requests"].items()}
    counts = [per_account.get(a, 0) for a in aids]
    return ScenarioResult(
        id=6,
        title=f"Token requests over {n_runs} runs of {spec.accounts} accounts, steps in separate processes",
        measures=[
            measure("token requests per account (max)", max(counts), "", "==", 1),
            measure("token requests per account (min)", min(counts), "", "==", 1),
            measure("step processes", sum(r["step processes"] for r in rows)),
            measure("429 responses", count_status(stats, 429), "", "==", 0),
        ],
        details=rows,
        settings={
            "accounts": spec.accounts,
            "reservations": spec.reservations,
            "limits": f"{spec.rate_limit_per_ip}/IP, {spec.rate_limit_per_account}/account "
            f"per {spec.window_s:g} s",
            "latency_ms": f"{spec.latency_ms[0]:g}-{spec.latency_ms[1]:g}",
        },
    )


def _tokens(stats: dict[str, Any]) -> int:
    return sum(int(v) for v in stats["token_requests"].values())
