"""Receiver settings from the environment: Basic-auth credentials and the body size cap."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from hostaway_pipeline.settings import SettingsError

DEFAULT_MAX_BYTES = 256 * 1024  # a reservation envelope is ~5 KB; messages with long bodies ~20 KB


@dataclass(frozen=True)
class WebhookConfig:
    login: str = field(repr=False)
    password: str = field(repr=False)
    max_body_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookConfig:
        env = os.environ if env is None else env
        login = env.get("HOSTAWAY_WEBHOOK_LOGIN", "")
        password = env.get("HOSTAWAY_WEBHOOK_PASSWORD", "")
        if not login or not password:
            raise SettingsError(
                "HOSTAWAY_WEBHOOK_LOGIN and HOSTAWAY_WEBHOOK_PASSWORD must both be set: the "
                "receiver accepts only deliveries with these Basic-auth credentials (register "
                "them with `hostaway-pipeline webhooks register`)"
            )
        if len(password) < 16:
            raise SettingsError("HOSTAWAY_WEBHOOK_PASSWORD must be at least 16 characters long")
        raw = env.get("HOSTAWAY_WEBHOOK_MAX_BYTES", str(DEFAULT_MAX_BYTES))
        try:
            max_bytes = int(raw)
        except ValueError:
            max_bytes = 0
        if max_bytes <= 0:
            raise SettingsError(
                f"HOSTAWAY_WEBHOOK_MAX_BYTES must be a positive integer, got {raw!r}"
            )
        return cls(login, password, max_bytes)


@dataclass(frozen=True)
class RegistrationTarget:
    """Where the account sensor registers new accounts' webhooks (HOSTAWAY_WEBHOOK_URL)."""

    url: str
    credentials: WebhookConfig = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RegistrationTarget | None:
        """None when HOSTAWAY_WEBHOOK_URL is unset; SettingsError when it is set but unusable."""
        env = os.environ if env is None else env
        url = env.get("HOSTAWAY_WEBHOOK_URL", "").strip()
        if not url:
            return None
        if not url.startswith(("https://", "http://")):
            raise SettingsError(
                "HOSTAWAY_WEBHOOK_URL must be the receiver's public https:// URL "
                "(…/webhooks/hostaway)"
            )
        return cls(url, WebhookConfig.from_env(env))
