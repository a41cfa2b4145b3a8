"""Access tokens: reuse before issuing, issue once per account across processes.

Lookup order: this process's memory -> the shared TokenStore (the warehouse) -> `POST
/accessTokens`. Issuing is single flight: under the store's cross-process `issue_lock` the store is
checked again, so N processes starting together mint one token. Hostaway tokens live two years and
activate about a second after issue, so a token is never used before `issued_at + activation
delay`, and one expiring within a margin is treated as already expired.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.envelope import TOKEN_PATH, check_token_reply
from hostaway_pipeline.client.errors import AuthError
from hostaway_pipeline.client.http import Transport
from hostaway_pipeline.client.ports import StoredToken, TokenStore
from hostaway_pipeline.client.stats import ClientStats

# Tokens already loaded by this process, keyed by (api host, account_id): every client of the
# process shares them, so a run with many assets in one process loads each token once.
_MEMORY: dict[tuple[str, int], StoredToken] = {}
_MEMORY_LOCK = threading.Lock()
_PROCESS_LOCKS: dict[tuple[str, int], threading.Lock] = {}
# Digests of tokens Hostaway refused, per (api host, account_id): a refused token is never taken
# back into memory, even when a thread reads it from the store before its invalidation reaches
# the store (otherwise the invalidating thread's retry would reuse it and fail a second time).
_RETIRED: dict[tuple[str, int], set[str]] = {}


def clear_memory_cache() -> None:
    """Forget every token cached in this process (tests; a secret rotated in-process)."""
    with _MEMORY_LOCK:
        _MEMORY.clear()
        _RETIRED.clear()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TokenManager:
    """Hands out a usable token for one account and retires tokens Hostaway refused."""

    def __init__(
        self,
        account_id: int,
        client_secret: str,
        config: ClientConfig,
        store: TokenStore,
        transport: Transport,
        stats: ClientStats,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account_id = account_id
        self._secret = client_secret
        self._config, self._store = config, store
        self._transport, self._stats = transport, stats
        self._clock, self._sleep = clock, sleep
        self._host = config.api_host
        self._key = (self._host, account_id)
        # Set once the token endpoint refused our secret: it will not change during this client's
        # life, so later callers (e.g. fetches queued in a pool) fail at once instead of each
        # asking Hostaway again with credentials it rejects.
        self._rejected: AuthError | None = None
        with _MEMORY_LOCK:
            self._process_lock = _PROCESS_LOCKS.setdefault(self._key, threading.Lock())

    def sensitive_values(self) -> list[str]:
        """The secret and the token in use, for scrubbing error messages."""
        with _MEMORY_LOCK:
            current = _MEMORY.get(self._key)
        return [self._secret] + ([current.token] if current else [])

    def token(self) -> str:
        """A token that is usable now (waits out the activation delay of a fresh one)."""
        if self._rejected is not None:
            raise copy.copy(self._rejected)
        found = self._from_memory()
        if found is None:
            # One thread per account per process goes to the store; the others then hit memory.
            with self._process_lock:
                if self._rejected is not None:
                    raise copy.copy(self._rejected)
                found = self._from_memory() or self._from_store_or_issue()
        return self._activated(found)

    def invalidate(self, failed: str) -> None:
        """Retire exactly `failed` (a newer token stored meanwhile by anyone is kept).

        Marked retired and dropped from memory at once, then removed from the store: a thread that
        misses memory meanwhile may read `failed` from the store, but will not take it. A refresh
        is counted once per refused token, by the first thread of the process that retires it.
        """
        with _MEMORY_LOCK:
            retired = _RETIRED.setdefault(self._key, set())
            first = _digest(failed) not in retired
            retired.add(_digest(failed))
            current = _MEMORY.get(self._key)
            if current is not None and current.token == failed:
                del _MEMORY[self._key]
        self._store.invalidate_token(self._host, self.account_id, failed)
        if first:
            self._stats.add(token_refreshes=1)

    def _from_memory(self) -> StoredToken | None:
        with _MEMORY_LOCK:
            current = _MEMORY.get(self._key)
        if current is not None and self._usable(current):  # memory never holds a retired token
            self._stats.set_token_source("memory")
            return current
        return None

    def _from_store_or_issue(self) -> StoredToken:
        stored = self._load()
        if stored is None:
            with self._store.issue_lock(self._host, self.account_id):
                stored = self._load()  # another process may have issued while we waited
                if stored is None:
                    stored = self._issue()
                    self._store.save_token(self._host, self.account_id, stored)
                    self._remember(stored)
                    self._stats.set_token_source("issued")
                    return stored
        self._remember(stored)
        self._stats.set_token_source("database")
        return stored

    def _load(self) -> StoredToken | None:
        stored = self._store.load_token(self._host, self.account_id)
        if stored is None:
            return None
        stored = StoredToken(stored.token, _utc(stored.issued_at), _utc(stored.expires_at))
        return stored if self._usable(stored) and not self._is_retired(stored) else None

    def _is_retired(self, token: StoredToken) -> bool:
        with _MEMORY_LOCK:
            return _digest(token.token) in _RETIRED.get(self._key, ())

    def _remember(self, token: StoredToken) -> None:
        with _MEMORY_LOCK:
            if _digest(token.token) not in _RETIRED.get(self._key, ()):
                _MEMORY[self._key] = token

    def _issue(self) -> StoredToken:
        self._stats.add(token_requests=1)
        sent = self._clock()
        try:
            reply = self._transport.request(
                "POST",
                TOKEN_PATH,
                check_token_reply,
                data={
                    "grant_type": "client_credentials",
                    "client_id": str(self.account_id),
                    "client_secret": self._secret,
                    "scope": "general",
                },
            )
        except AuthError as rejected:
            self._rejected = rejected
            raise
        token, expires_in = reply.value
        # issued_at late (activation waits longer), expires_at early (refresh sooner): both safe.
        return StoredToken(token, self._clock(), sent + timedelta(seconds=expires_in))

    def _usable(self, token: StoredToken) -> bool:
        lifetime = (token.expires_at - token.issued_at).total_seconds()
        margin = min(self._config.token_expiry_margin_s, max(lifetime, 0) / 2)
        return self._clock() < token.expires_at - timedelta(seconds=margin)

    def _activated(self, token: StoredToken) -> str:
        delay = self._config.token_activation_delay_s
        ready = token.issued_at + timedelta(seconds=delay)
        # Capped at the delay itself: a clock ahead of ours (another host) cannot park us long.
        wait = min(delay, (ready - self._clock()).total_seconds())
        if wait > 0:
            self._sleep(wait)
        return token.token
