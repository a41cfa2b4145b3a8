"""Receiver settings from the environment: the credential secret, the body cap, the retention.

- `HOSTAWAY_WEBHOOK_SECRET` (>= 32 characters): every account's webhook login/password is derived
  from it and the account's key id (webhooks/credentials.py). Required by `webhooks register`
  and the account sensor's registrations; the receiver needs it to accept per-account
  credentials.
- `HOSTAWAY_WEBHOOK_LOGIN` / `HOSTAWAY_WEBHOOK_PASSWORD` (deprecated): the pair once registered on
  every account. Still accepted, only for accounts not re-keyed yet (docs/WEBHOOKS.md,
  "Migrating from the shared pair"); unset them once every account is re-keyed.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hostaway_pipeline.settings import SettingsError
from hostaway_pipeline.webhooks.credentials import MIN_SECRET_CHARS

DEFAULT_MAX_BYTES = 256 * 1024  # a reservation envelope is ~5 KB; messages with long bodies ~20 KB
DEFAULT_RETENTION_DAYS = 30
DEFAULT_BODY_TIMEOUT_S = 15.0  # Hostaway waits 20 s for the answer


@dataclass(frozen=True)
class WebhookConfig:
    secret: str | None = field(default=None, repr=False)
    legacy_login: str | None = field(default=None, repr=False)
    legacy_password: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BYTES
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S  # the whole body must arrive within this

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookConfig:
        env = os.environ if env is None else env
        secret = env.get("HOSTAWAY_WEBHOOK_SECRET", "") or None
        login = env.get("HOSTAWAY_WEBHOOK_LOGIN", "")
        password = env.get("HOSTAWAY_WEBHOOK_PASSWORD", "")
        if secret is not None and len(secret) < MIN_SECRET_CHARS:
            raise SettingsError(
                f"HOSTAWAY_WEBHOOK_SECRET must be at least {MIN_SECRET_CHARS} characters long "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if bool(login) != bool(password):
            raise SettingsError(
                "HOSTAWAY_WEBHOOK_LOGIN and HOSTAWAY_WEBHOOK_PASSWORD (deprecated) must be set "
                "together, or neither"
            )
        if password and len(password) < 16:
            raise SettingsError("HOSTAWAY_WEBHOOK_PASSWORD must be at least 16 characters long")
        if secret is None and not login:
            raise SettingsError(
                "HOSTAWAY_WEBHOOK_SECRET must be set: each account's webhook credentials are "
                "derived from it (register them with `hostaway-pipeline webhooks register`)"
            )
        return cls(secret, login or None, password or None,
                   _positive(env, "MAX_BYTES", DEFAULT_MAX_BYTES),
                   float(_positive(env, "BODY_TIMEOUT_S", int(DEFAULT_BODY_TIMEOUT_S))))  # fmt: skip

    def require_secret(self) -> str:
        """The secret, or SettingsError saying registrations need it."""
        if self.secret is None:
            raise SettingsError(
                "HOSTAWAY_WEBHOOK_SECRET must be set to register webhooks: each account gets its "
                "own credentials derived from it (the shared HOSTAWAY_WEBHOOK_LOGIN / _PASSWORD "
                "pair is deprecated and is never registered again)"
            )
        return self.secret


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(f"HOSTAWAY_WEBHOOK_{name}", str(default))
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
    if value <= 0:
        raise SettingsError(f"HOSTAWAY_WEBHOOK_{name} must be a positive integer, got {raw[:20]!r}")
    return value


def retention_days(env: Mapping[str, str] | None = None) -> int:
    """HOSTAWAY_WEBHOOK_RETENTION_DAYS: applied events older than this are deleted (default 30)."""
    return _positive(os.environ if env is None else env, "RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def check_url(url: str) -> str:
    """`url` if it is https://, or http:// to a loopback host; else SettingsError (the webhook's
    Basic-auth credential would travel in clear)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise SettingsError(
        f"the webhook URL must be the receiver's https:// URL (plain http:// only on loopback, "
        f"or the credentials travel in clear); got {url[:80]!r}"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RegistrationTarget:
    """Where the account sensor registers accounts' webhooks (HOSTAWAY_WEBHOOK_URL)."""

    url: str
    secret: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RegistrationTarget | None:
        """None when HOSTAWAY_WEBHOOK_URL is unset; SettingsError when it is set but unusable."""
        env = os.environ if env is None else env
        url = env.get("HOSTAWAY_WEBHOOK_URL", "").strip()
        if not url:
            return None
        try:
            check_url(url)
        except SettingsError as exc:
            raise SettingsError(f"HOSTAWAY_WEBHOOK_URL: {exc}") from None
        return cls(url, WebhookConfig.from_env(env).require_secret())
