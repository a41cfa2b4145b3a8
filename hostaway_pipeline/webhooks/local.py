"""The receiver in a background thread on an OS-chosen port (tests, the demo, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time

import sqlalchemy as sa
import uvicorn

from hostaway_pipeline.webhooks.app import PATH, create_app
from hostaway_pipeline.webhooks.config import WebhookConfig
from hostaway_pipeline.webhooks.guard import GuardedH11Protocol
from hostaway_pipeline.webhooks.serve import HEADER_BYTES, KEEP_ALIVE_S


class LocalReceiver:
    """`with LocalReceiver(engine, config) as r:` then POST to `r.url`."""

    def __init__(self, engine: sa.Engine, config: WebhookConfig) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        app = create_app(engine, config)
        cfg = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                             http=GuardedH11Protocol, h11_max_incomplete_event_size=HEADER_BYTES,
                             timeout_keep_alive=KEEP_ALIVE_S)  # fmt: skip
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + PATH

    def start(self, timeout_s: float = 60.0) -> LocalReceiver:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> LocalReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
