"""Scenario 4: peak RSS of one account's full sync in a fresh process, at two account sizes.

Limits are raised out of the way and latency is off (or 100k reservations would take a day at
Hostaway's real limits): memory depends on how the data flows, not on how fast.
"""

from __future__ import annotations

from typing import Any

from benchmarks.context import Context
from benchmarks.results_model import ScenarioResult, measure
from benchmarks.sandbox import SandboxProcess, SandboxSpec
from benchmarks.warehouse import fresh_warehouse
from benchmarks.worker import ClientSettings, Job, run_parallel

MB = 1024 * 1024
FULL_SIZES = (10_000, 100_000)
SMOKE_SIZES = (100, 400)  # proves the measuring, not the targets
CLIENT = ClientSettings(
    rate_limit_per_ip=1_000_000,
    rate_limit_per_account=1_000_000,
    max_concurrency=4,
    token_activation_delay_s=0.05,
)


def spec_for(reservations: int) -> SandboxSpec:
    """One account; listings, conversations and messages all in proportion to reservations."""
    return SandboxSpec(
        accounts=1,
        listings=max(10, reservations // 100),
        reservations=reservations,
        latency_ms=(0, 0),
        rate_limit_per_ip=0,
        rate_limit_per_account=0,
        token_activation_delay_s=0.05,
    )


def measure_size(ctx: Context, reservations: int) -> dict[str, Any]:
    spec = spec_for(reservations)
    with SandboxProcess(spec) as sb:
        fresh_warehouse(ctx.db_url, ctx.key, sb.secrets).dispose()
        (aid,) = sb.secrets
        (r,) = run_parallel([Job(ctx.db_url, sb.url, aid, client=CLIENT)], ctx.key)
    tables = {t: v for rep in r["reports"].values() for t, v in rep["tables"].items()}
    return {
        "reservations": reservations,
        "listings": tables["listings"]["inserted"],
        "conversations": tables["conversations"]["inserted"],
        "messages": tables["messages"]["inserted"],
        "requests": r["client"]["requests"],
        "sync_s": round(r["sync_finished"] - r["sync_started"], 1),
        "rss_after_imports_mb": round(r["rss_baseline_bytes"] / MB, 1),
        "peak_rss_mb": round(r["ru_maxrss_bytes"] / MB, 1),
        "peak_rss_sampled_mb": round(r["rss_peak_sampled_bytes"] / MB, 1),
        **{
            f"sampled_peak_after_{name}_mb": round(rep["rss_peak_so_far_bytes"] / MB, 1)
            for name, rep in r["reports"].items()
        },
    }


def run(ctx: Context) -> ScenarioResult:
    small, large = (measure_size(ctx, n) for n in ctx.pick(FULL_SIZES, SMOKE_SIZES))
    growth = 100 * (large["peak_rss_mb"] / small["peak_rss_mb"] - 1)
    return ScenarioResult(
        id=4,
        title="Peak memory of one account's full sync",
        measures=[
            measure(
                f"peak RSS at {small['reservations']:,}", small["peak_rss_mb"], " MB", "<", 300
            ),
            measure(
                f"peak RSS at {large['reservations']:,}", large["peak_rss_mb"], " MB", "<", 300
            ),
            measure("growth, 10x the data", round(growth, 1), "%", "<", 15),
        ],
        details=[small, large],
        settings={
            "limits": "off (client 1,000,000/10 s, sandbox unlimited)",
            "latency": "none",
            "max_concurrency": CLIENT.max_concurrency,
        },
        notes=[
            "Each size runs in a fresh worker process (listings, reservations, messages, as the "
            "three Dagster steps would, but in one process: the worst case for memory). Peak = "
            "ru_maxrss of that process; `sampled` polls RSS every 0.1 s as a cross-check.",
        ],
    )
