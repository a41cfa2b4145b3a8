"""Turning the client's running counters into one sync's request cost."""

from __future__ import annotations

from dataclasses import dataclass

from hostaway_pipeline.client import ClientStats
from hostaway_pipeline.sync.report import RequestCounts


@dataclass(frozen=True)
class StatsSnapshot:
    requests: int
    retries: int
    http_429: int
    rate_limit_wait_s: float
    token_requests: int
    token_refreshes: int


def snapshot(stats: ClientStats) -> StatsSnapshot:
    return StatsSnapshot(
        requests=stats.requests,
        retries=stats.retries,
        http_429=stats.http_429,
        rate_limit_wait_s=stats.rate_limit_wait_s,
        token_requests=stats.token_requests,
        token_refreshes=stats.token_refreshes,
    )


def api_delta(before: StatsSnapshot, stats: ClientStats) -> RequestCounts:
    """What the client spent since `before` (one client may serve several streams in a run)."""
    return RequestCounts(
        requests=stats.requests - before.requests,
        retries=stats.retries - before.retries,
        http_429=stats.http_429 - before.http_429,
        rate_limit_wait_s=round(stats.rate_limit_wait_s - before.rate_limit_wait_s, 3),
        token_source=stats.token_source or "none",
        token_requests=stats.token_requests - before.token_requests,
        token_refreshes=stats.token_refreshes - before.token_refreshes,
    )
