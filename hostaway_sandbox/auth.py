"""Client credentials and access tokens: issue, activation delay, revocation, secret rotation.

Rotating a secret invalidates the old secret for new token requests only; tokens already
issued stay valid until revoked (Hostaway documents no cascade, so the sandbox does none).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_TTL_S = 63072000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class _Token:
    account_id: int
    issued_mono: float


class TokenRegistry:
    """Thread-safe secrets and tokens of every account."""

    def __init__(
        self, activation_delay_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.activation_delay_s = activation_delay_s
        self.clock = clock
        self._lock = threading.Lock()
        self._secrets: dict[int, str] = {}
        self._tokens: dict[str, _Token] = {}

    def set_secret(self, account_id: int, secret: str) -> None:
        """Register (or replace) an account's client secret."""
        with self._lock:
            self._secrets[account_id] = secret

    def secret(self, account_id: int) -> str:
        """The current client secret of an account (KeyError when unknown)."""
        with self._lock:
            return self._secrets[account_id]

    def secrets_map(self) -> dict[int, str]:
        """Every account id with its current secret."""
        with self._lock:
            return dict(self._secrets)

    def rotate(self, account_id: int) -> str:
        """Give the account a new random secret; the old one stops working. Tokens stay valid."""
        new = secrets.token_hex(16)
        with self._lock:
            if account_id not in self._secrets:
                raise KeyError(account_id)
            self._secrets[account_id] = new
        return new

    def account_of_client(self, client_id: str) -> int | None:
        """The account id a `client_id` form value names, when it is a known account."""
        try:
            aid = int(client_id)
        except (TypeError, ValueError):
            return None
        with self._lock:
            return aid if aid in self._secrets else None

    def issue(self, form: dict[str, str]) -> tuple[str | None, str]:
        """Check a token request's form; return (token, "") or (None, failure message)."""
        if form.get("grant_type") != "client_credentials":
            return None, "Invalid grant_type: expected client_credentials"
        if form.get("scope") != "general":
            return None, "Invalid scope: expected general"
        aid = self.account_of_client(form.get("client_id", ""))
        if aid is None:
            return None, "Invalid client credentials"
        with self._lock:
            if not secrets.compare_digest(self._secrets[aid], form.get("client_secret", "")):
                return None, "Invalid client credentials"
            now = time.time()
            header = {"typ": "JWT", "alg": "RS256"}
            claims = {
                "aud": str(aid),
                "jti": secrets.token_hex(20),
                "iat": int(now),
                "nbf": int(now),
                "exp": int(now) + TOKEN_TTL_S,
                "sub": "",
                "scopes": ["general"],
                "secretId": aid,
            }
            token = ".".join(
                (
                    _b64(json.dumps(header).encode()),
                    _b64(json.dumps(claims).encode()),
                    _b64(secrets.token_bytes(128)),
                )
            )
            self._tokens[token] = _Token(aid, self.clock())
        return token, ""

    def check(self, token: str | None) -> tuple[int | None, str]:
        """Return (account_id, "") for a valid active token, else (None, reason)."""
        if not token:
            return None, "Unauthorized: missing bearer token"
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return None, "Unauthorized: invalid or revoked token"
        if self.clock() - entry.issued_mono < self.activation_delay_s:
            return None, "Unauthorized: token is not active yet"
        return entry.account_id, ""

    def peek_account(self, token: str | None) -> int | None:
        """The account a token belongs to (even if not active yet), or None."""
        if not token:
            return None
        with self._lock:
            entry = self._tokens.get(token)
        return entry.account_id if entry else None

    def revoke(self, token: str) -> bool:
        """Revoke one token; True when it existed."""
        with self._lock:
            return self._tokens.pop(token, None) is not None

    def revoke_account(self, account_id: int) -> int:
        """Revoke every token of an account; return how many."""
        with self._lock:
            doomed = [t for t, e in self._tokens.items() if e.account_id == account_id]
            for t in doomed:
                del self._tokens[t]
        return len(doomed)

    def tokens_of(self, account_id: int) -> list[str]:
        """Live tokens of an account (for tests)."""
        with self._lock:
            return [t for t, e in self._tokens.items() if e.account_id == account_id]
