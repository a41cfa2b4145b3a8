"""Client-side rate limiting over a shared GCRA store: per-IP and per-account buckets.

Burst is 1: requests are spaced evenly `(window + slack) / limit` apart, slack being
`max(window * safety_margin, min_slack_s)`, so a sliding-window server never counts more than
`limit` requests in any window unless one request is delayed by more than the slack relative to
the request `limit` places later.
The store is shared by every process on the host (the warehouse implements it in SQL), which is
what keeps three accounts syncing at once inside the one per-IP budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.ports import RateLimitStore

_NEGLIGIBLE_S = 0.001


def ip_bucket(base_url: str) -> str:
    """The per-IP bucket name: one per API host (all accounts on this machine share it)."""
    return f"ip:{urlsplit(base_url).netloc.lower()}"


def account_bucket(account_id: int) -> str:
    """The per-account bucket name."""
    return f"account:{account_id}"


class RateLimiter:
    """Reserves a slot in both buckets before each request and sleeps until the later one."""

    def __init__(
        self,
        store: RateLimitStore,
        config: ClientConfig,
        account_id: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._sleep = sleep
        self._buckets = (
            (ip_bucket(config.base_url), config.ip_interval_s),
            (account_bucket(account_id), config.account_interval_s),
        )

    def acquire(self) -> float:
        """Block until this process may send one request; return the seconds waited.

        Both slots are reserved at once and we sleep the longer wait. The bucket with the shorter
        wait would then count our request earlier than it is really sent, letting its next
        requests crowd in behind it; so that bucket is pushed forward by the difference (GCRA:
        reserving `d` moves its next slot `d` later), and each bucket's next slot lies one interval
        after the actual send.
        """
        waits = [
            (self._store.reserve(bucket, interval), bucket) for bucket, interval in self._buckets
        ]
        longest = max(wait for wait, _ in waits)
        for wait, bucket in waits:
            if longest - wait > _NEGLIGIBLE_S:
                self._store.reserve(bucket, longest - wait)
        if longest > 0:
            self._sleep(longest)
            return longest
        return 0.0
