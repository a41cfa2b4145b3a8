"""A concurrent full sync of several accounts, one process per account, measured against the floor.

The floor is what Hostaway's per-IP limit allows at best: (requests made) / (limit / window).
Wall time runs from spawning the account processes to the last one exiting, so process start-up,
migrations, token issue and its activation delay are all inside it.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.context import Context
from benchmarks.sandbox import SandboxProcess, SandboxSpec, count_endpoint, count_status
from benchmarks.warehouse import fresh_warehouse
from benchmarks.worker import ClientSettings, Job, run_parallel


def run_full_sync(ctx: Context, spec: SandboxSpec, client: ClientSettings) -> dict[str, Any]:
    """One fresh sandbox, one empty warehouse, every account synced at once; the measurements."""
    with SandboxProcess(spec) as sb:
        fresh_warehouse(ctx.db_url, ctx.key, sb.secrets).dispose()
        jobs = [Job(ctx.db_url, sb.url, aid, client=client) for aid in sorted(sb.secrets)]
        started = time.time()
        results = run_parallel(jobs, ctx.key)
        wall = time.time() - started
        stats = sb.stats()
    total, n429 = int(stats["total"]), count_status(stats, 429)
    rate = spec.rate_limit_per_ip / spec.window_s
    floor = (total - n429) / rate
    span = max(r["sync_finished"] for r in results) - min(r["sync_started"] for r in results)
    startup = max(r["sync_started"] - r["process_started"] for r in results)
    messages = count_endpoint(stats, "GET /v1/conversations/{id}/messages")
    return {
        "max_concurrency": client.max_concurrency,
        "requests": total,
        "http_429": n429,
        "token_requests": sum(int(v) for v in stats["token_requests"].values()),
        "message_requests": messages,
        "floor_s": round(floor, 2),
        "wall_s": round(wall, 2),
        "ratio": round(wall / floor, 3),
        "sync_span_s": round(span, 2),
        "span_ratio": round(span / floor, 3),
        "startup_s": round(startup, 2),
        "client_wait_s": round(sum(r["client"]["rate_limit_wait_s"] for r in results), 1),
        "retries": sum(int(r["client"]["retries"]) for r in results),
    }
