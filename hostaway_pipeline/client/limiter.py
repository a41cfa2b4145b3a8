"""Client-side rate limiting over a shared GCRA store: per-IP and per-account buckets.

Burst is 1: requests are spaced evenly `(window + slack) / limit` apart, slack being
`max(window * safety_margin, min_slack_s)`, so a sliding-window server never counts more than
`limit` requests in any window unless one request is delayed by more than the slack relative to
the request `limit` places later.
The store is shared by every process on every host (the warehouse implements it in SQL), which
is what keeps three accounts syncing at once inside the one per-IP budget; processes on another
egress (HOSTAWAY_EGRESS_ID) use that egress's own per-IP bucket and the same account buckets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.ports import RateLimitStore

_NEGLIGIBLE_S = 0.001
# One thread per process at a time takes an account's slots (its HTTP requests still run in
# parallel): the push in `acquire` is exact only if no other reservation of the account interleaves.
_ACCOUNT_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_ACCOUNT_LOCKS_GUARD = threading.Lock()


def ip_bucket(base_url: str, egress_id: str = "default") -> str:
    """The per-IP bucket name: one per egress (source IP) and API host, shared by every process
    and account whose requests leave from that egress (HOSTAWAY_EGRESS_ID)."""
    return f"ip:{egress_id}:{urlsplit(base_url).netloc.lower()}"


def account_bucket(account_id: int) -> str:
    """The per-account bucket name."""
    return f"account:{account_id}"


class RateLimiter:
    """Reserves a slot in the account bucket, then in the per-IP bucket, before each request."""

    def __init__(
        self,
        store: RateLimitStore,
        config: ClientConfig,
        account_id: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._sleep = sleep
        self._ip = (ip_bucket(config.base_url, config.egress_id), config.ip_interval_s)
        self._account = (account_bucket(account_id), config.account_interval_s)
        with _ACCOUNT_LOCKS_GUARD:
            self._lock = _ACCOUNT_LOCKS.setdefault(
                (self._ip[0], self._account[0]), threading.Lock()
            )

    def acquire(self) -> float:
        """Block until this process may send one request; return the seconds waited.

        The account slot is taken first and the shared per-IP slot last, right before the send,
        so no IP slot sits idle while we wait for our account (other accounts use it meanwhile).
        If the IP wait then delays the send, the account bucket is pushed forward by that much
        (GCRA: reserving `d` moves the next slot `d` later): otherwise it would count the request
        earlier than it is really sent and let the account's next requests crowd in behind it.
        """
        with self._lock:
            account_wait = self._reserve(self._account)
            ip_wait = self._reserve(self._ip)
            if ip_wait > _NEGLIGIBLE_S:
                # The account's next slot is due one interval after the real send. An IP wait
                # longer than that interval has already let the account's slot pass, so GCRA counts
                # the push from now: push by at most one interval, never by the whole wait.
                self._store.reserve(self._account[0], min(ip_wait, self._account[1]))
        return account_wait + ip_wait

    def _reserve(self, bucket: tuple[str, float]) -> float:
        wait = self._store.reserve(*bucket)
        if wait <= 0:
            return 0.0
        self._sleep(wait)
        return wait
