"""Storage interfaces the client needs; the warehouse implements them (and tests may use memory ones).

Keeping these as protocols keeps the client free of SQL and of the warehouse schema.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredToken:
    """An access token as the store hands it back (decrypted); `repr` never shows the token."""

    token: str = field(repr=False)
    issued_at: datetime  # UTC, aware
    expires_at: datetime  # UTC, aware

    def __repr__(self) -> str:
        return (
            f"StoredToken(token=<hidden>, issued_at={self.issued_at!r}, "
            f"expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


class TokenStore(Protocol):
    """Durable, cross-process token cache (tokens encrypted at rest by the implementation).

    Keyed by API host (`config.api_host`, e.g. "https://api.hostaway.com") and account: a token
    is only ever handed back for the host that issued it.
    """

    def load_token(self, api_host: str, account_id: int) -> StoredToken | None:
        """The stored token of an account at `api_host`, or None."""
        ...

    def save_token(self, api_host: str, account_id: int, token: StoredToken) -> None:
        """Store (replace) the account's token at `api_host`."""
        ...

    def invalidate_token(self, api_host: str, account_id: int, token: str) -> bool:
        """Delete the account's token only if it is still `token` (compare and swap)."""
        ...

    def issue_lock(self, api_host: str, account_id: int) -> AbstractContextManager[None]:
        """A cross-process lock held while one process mints the account's token (single flight)."""
        ...


class RateLimitStore(Protocol):
    """Shared GCRA buckets: one atomic reservation per request, across processes and runs."""

    def reserve(self, bucket: str, interval_s: float) -> float:
        """Reserve the next slot of `bucket`, spaced `interval_s` apart; return seconds to wait.

        Implemented as one statement: tat = max(tat, now) + interval; wait = tat - interval - now.
        """
        ...
