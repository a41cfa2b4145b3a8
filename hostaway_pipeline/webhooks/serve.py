"""Run the receiver under uvicorn: `hostaway-pipeline webhooks serve`.

uvicorn is the ASGI server Starlette is built for and the one the Dagster webserver already
ships; `--workers N` forks N processes on one socket, and more replicas go behind the load
balancer (the inbox is the database, so replicas share nothing else). Limits (webhooks/guard.py):
request headers must be complete within HOSTAWAY_WEBHOOK_HEADER_TIMEOUT_S (10 s) and fit in
16 KiB (h11), idle keep-alive connections close after 5 s, at most
HOSTAWAY_WEBHOOK_MAX_CONNECTIONS (200) are kept per worker (the oldest idle one is closed for a
new one), and uvicorn answers 503 past that many requests in flight (Hostaway retries 503s).
The process's descriptor limit must exceed the connection cap (`ulimit -n` 1024 or more).
"""

from __future__ import annotations

import uvicorn

from hostaway_pipeline.settings import Settings
from hostaway_pipeline.webhooks.config import WebhookConfig
from hostaway_pipeline.webhooks.guard import GuardedH11Protocol

HEADER_BYTES = 16 * 1024
KEEP_ALIVE_S = 5


def serve(host: str, port: int, workers: int = 1) -> None:
    """Serve until SIGINT/SIGTERM (graceful: in-flight requests finish)."""
    Settings.from_env()  # fail fast, in the parent, on bad settings
    WebhookConfig.from_env()
    uvicorn.run(
        "hostaway_pipeline.webhooks.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="hostaway_pipeline.webhooks.guard:GuardedH11Protocol",
        h11_max_incomplete_event_size=HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_S,
        limit_concurrency=GuardedH11Protocol.max_connections + 50,
        access_log=False,  # our own log lines name the account and event, never the body
        proxy_headers=True,
        timeout_graceful_shutdown=15,  # Hostaway waits 20 s for an answer
        log_level="info",
    )
