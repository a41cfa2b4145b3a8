"""uvicorn's h11 protocol with the two limits it lacks for an internet-facing receiver.

uvicorn times out idle keep-alive connections (`timeout_keep_alive`) but not a connection that
never completes a request's headers, and its `limit_concurrency` counts idle connections too,
so a few hundred half-open connections either exhaust the process's descriptors or turn every
legitimate delivery into a 503. This protocol:
- closes a connection whose request headers are not complete `header_timeout_s` after it opened
  (or after its previous response): slow or silent clients are dropped;
- when more than `max_connections` are open, closes the oldest one that is not inside a request,
  so a new delivery is always served (an attacker's connections evict each other).
Headers are capped by h11 (`h11_max_incomplete_event_size`, serve.py); the body read by the app
(`HOSTAWAY_WEBHOOK_BODY_TIMEOUT_S`, app.py). Values: HOSTAWAY_WEBHOOK_HEADER_TIMEOUT_S (10),
HOSTAWAY_WEBHOOK_MAX_CONNECTIONS (200), read when the worker imports this module.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = default
    return value if 0 < value < 1e6 else default


class GuardedH11Protocol(H11Protocol):
    header_timeout_s: float = _env_number("HOSTAWAY_WEBHOOK_HEADER_TIMEOUT_S", 10.0)
    max_connections: int = int(_env_number("HOSTAWAY_WEBHOOK_MAX_CONNECTIONS", 200))

    _deadline: asyncio.TimerHandle | None = None
    _opened: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = time.monotonic()
        self._arm()
        if len(self.connections) > self.max_connections:
            self._evict()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self._busy():
            self._cancel()  # headers complete: the request is the app's now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers get the same deadline

    def _busy(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._cancel()
        self._deadline = self.loop.call_later(self.header_timeout_s, self._expire)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self._busy() and not self.transport.is_closing():
            self.transport.close()

    def _evict(self) -> None:
        idle: list[Any] = [
            c for c in self.connections
            if isinstance(c, GuardedH11Protocol) and c is not self and not c._busy()
            and not c.transport.is_closing()
        ]  # fmt: skip
        if idle:
            min(idle, key=lambda c: c._opened).transport.close()


def guarded(header_timeout_s: float, max_connections: int) -> type[GuardedH11Protocol]:
    """The protocol with other limits (tests, LocalReceiver)."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout_s": header_timeout_s, "max_connections": max_connections},
    )
