"""Entry points for spawned worker processes (importable, so `spawn` can find them).

Each worker opens the warehouse's SQL stores on PostgreSQL, like a Dagster step process would,
waits at a barrier so all start together, runs its calls and reports its client stats.
"""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline_tests import waits


def _client(
    base_url: str, account_id: int, secret: str, pg_url: str, key: str, cfg: dict[str, Any]
) -> HostawayClient:
    from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
    from hostaway_pipeline.accounts.secrets import SecretBox
    from hostaway_pipeline.accounts.tokens import SqlTokenStore
    from hostaway_pipeline.warehouse import db

    engine = db.create_engine(pg_url)
    return HostawayClient(
        account_id,
        secret,
        ClientConfig(base_url=base_url, **cfg),
        SqlTokenStore(engine, SecretBox(key)),
        SqlRateLimitStore(engine),
    )


def call_listings(
    base_url: str,
    account_id: int,
    secret: str,
    pg_url: str,
    key: str,
    cfg: dict[str, Any],
    calls: int,
    barrier: Barrier,
    results: Queue[dict[str, Any]],
) -> None:
    """Make `calls` GET /listings after the barrier; put stats (and any error text) on `results`."""
    client = _client(base_url, account_id, secret, pg_url, key, cfg)
    error = None
    barrier.wait(timeout=waits.PROCESS_S)
    started = time.time()
    try:
        for _ in range(calls):
            client.get("/listings", {"limit": 1})
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    results.put(
        {
            "account_id": account_id,
            "elapsed": time.time() - started,
            "error": error,
            **client.stats.as_dict(),
        }
    )
    client.close()
