"""Per-client counters, safe to bump from a thread pool; the engine reports them as metadata."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClientStats:
    """What one client did.

    requests: HTTP attempts sent, token endpoint included. retries: attempts repeated after a
    retryable failure. http_429: responses with status 429. rate_limit_wait_s: seconds slept by
    the client-side limiter. token_source: where the first token came from ("memory", "database"
    or "issued"; None before any call). token_requests: POSTs to /accessTokens. token_refreshes:
    tokens thrown away after a 401/403. errors: attempts that failed (transport error, non-2xx
    status, malformed body). by_status: responses per HTTP status.
    """

    requests: int = 0
    retries: int = 0
    http_429: int = 0
    rate_limit_wait_s: float = 0.0
    token_source: str | None = None
    token_requests: int = 0
    token_refreshes: int = 0
    errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: float) -> None:
        """Add to numeric counters atomically, e.g. `stats.add(requests=1, retries=1)`."""
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def record_status(self, status: int) -> None:
        """Count one response by status (429s are also counted in http_429)."""
        with self._lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if status == 429:
                self.http_429 += 1

    def set_token_source(self, source: str) -> None:
        """Remember where the first token came from; later refreshes do not overwrite it."""
        with self._lock:
            if self.token_source is None:
                self.token_source = source

    def as_dict(self) -> dict[str, Any]:
        """A consistent plain-dict snapshot (for reports and Dagster metadata)."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "http_429": self.http_429,
                "rate_limit_wait_s": round(self.rate_limit_wait_s, 3),
                "token_source": self.token_source,
                "token_requests": self.token_requests,
                "token_refreshes": self.token_refreshes,
                "errors": self.errors,
                "by_status": dict(self.by_status),
            }
