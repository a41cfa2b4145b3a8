"""Sliding-window rate limits per client IP and per account, as Hostaway documents them."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `per_ip` accepted requests per IP and `per_account` per account in any `window_s`.

    Only accepted requests enter the windows; a rejected request costs nothing. A limit of
    None or 0 disables that limit. All attributes may be changed at runtime.
    """

    def __init__(
        self,
        per_ip: int | None = 15,
        per_account: int | None = 20,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock  # tests pass a manual clock: windows then do not depend on load
        self.per_ip = per_ip
        self.per_account = per_account
        self.window_s = window_s
        self._lock = threading.Lock()
        self._ip: dict[str, deque[float]] = {}
        self._acct: dict[int, deque[float]] = {}

    def _wait(self, q: deque[float], limit: int | None, now: float) -> float:
        if not limit:
            return 0.0
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if len(q) < limit:
            return 0.0
        return max(1e-3, q[len(q) - limit] + self.window_s - now)

    def acquire(self, ip: str, account_id: int | None) -> float:
        """Admit a request (return 0.0) or return the seconds until a slot frees."""
        now = self.clock()
        with self._lock:
            qi = self._ip.setdefault(ip, deque())
            qa = self._acct.setdefault(account_id, deque()) if account_id is not None else None
            wait = self._wait(qi, self.per_ip, now)
            if qa is not None:
                wait = max(wait, self._wait(qa, self.per_account, now))
            if wait > 0:
                return wait
            qi.append(now)
            if qa is not None:
                qa.append(now)
            return 0.0

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._ip.clear()
            self._acct.clear()
