"""In-process implementations of the storage ports, for tests and single-process tools."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from hostaway_pipeline.client.ports import StoredToken


class MemoryTokenStore:
    """A thread-safe TokenStore living in one process (no persistence, no encryption)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, int], StoredToken] = {}
        self._lock = threading.Lock()
        self._issue_locks: dict[tuple[str, int], threading.Lock] = {}

    def load_token(self, api_host: str, account_id: int) -> StoredToken | None:
        """The stored token of an account at `api_host`, or None."""
        with self._lock:
            return self._tokens.get((api_host, account_id))

    def save_token(self, api_host: str, account_id: int, token: StoredToken) -> None:
        """Store (replace) the account's token at `api_host`."""
        with self._lock:
            self._tokens[(api_host, account_id)] = token

    def invalidate_token(self, api_host: str, account_id: int, token: str) -> bool:
        """Delete the account's token only if it is still `token`."""
        key = (api_host, account_id)
        with self._lock:
            current = self._tokens.get(key)
            if current is None or current.token != token:
                return False
            del self._tokens[key]
            return True

    def issue_lock(self, api_host: str, account_id: int) -> AbstractContextManager[None]:
        """A per-host, per-account lock (threads of this process only)."""
        with self._lock:
            lock = self._issue_locks.setdefault((api_host, account_id), threading.Lock())
        return _held(lock)


@contextmanager
def _held(lock: threading.Lock) -> Iterator[None]:
    with lock:
        yield


class MemoryRateLimitStore:
    """A thread-safe GCRA RateLimitStore (burst 1) living in one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def reserve(self, bucket: str, interval_s: float) -> float:
        """tat = max(tat, now) + interval; return tat - interval - now (seconds to wait)."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat.get(bucket, now), now) + interval_s
            self._tat[bucket] = tat
            return tat - interval_s - now
