"""Storage interfaces the client needs; the warehouse implements them (and tests may use memory ones).

Keeping these as protocols keeps the client free of SQL and of the warehouse schema.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredToken:
    """An access token as the store hands it back (decrypted)."""

    token: str
    issued_at: datetime  # UTC, aware
    expires_at: datetime  # UTC, aware


class TokenStore(Protocol):
    """Durable, cross-process token cache (tokens encrypted at rest by the implementation)."""

    def load_token(self, account_id: int) -> StoredToken | None:
        """The stored token of an account, or None."""
        ...

    def save_token(self, account_id: int, token: StoredToken) -> None:
        """Store (replace) the account's token."""
        ...

    def invalidate_token(self, account_id: int, token: str) -> bool:
        """Delete the account's token only if it is still `token` (compare and swap)."""
        ...

    def issue_lock(self, account_id: int) -> AbstractContextManager[None]:
        """A cross-process lock held while one process mints the account's token (single flight)."""
        ...


class RateLimitStore(Protocol):
    """Shared GCRA buckets: one atomic reservation per request, across processes and runs."""

    def reserve(self, bucket: str, interval_s: float) -> float:
        """Reserve the next slot of `bucket`, spaced `interval_s` apart; return seconds to wait.

        Implemented as one statement: tat = max(tat, now) + interval; wait = tat - interval - now.
        """
        ...
