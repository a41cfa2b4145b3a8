"""Run the receiver under uvicorn: `hostaway-pipeline webhooks serve`.

uvicorn (with uvloop and httptools) is the ASGI server Starlette is built for and the one the
Dagster webserver already ships; `--workers N` forks N processes on one socket, and more replicas
go behind the load balancer (the inbox is the database, so replicas share nothing else).
"""

from __future__ import annotations

import uvicorn

from hostaway_pipeline.settings import Settings
from hostaway_pipeline.webhooks.config import WebhookConfig


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
        access_log=False,  # our own log lines name the account and event, never the body
        proxy_headers=True,
        timeout_graceful_shutdown=15,  # Hostaway waits 20 s for an answer
        log_level="info",
    )
