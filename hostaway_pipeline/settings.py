"""Environment-driven settings, read and validated in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_API_URL = "https://api.hostaway.com/v1"


class SettingsError(ValueError):
    """A setting from the environment is invalid; the message names the variable."""


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """The local folder of the embedded defaults (SQLite warehouse, generated secret key)."""
    env = os.environ if env is None else env
    return Path(env.get("HOSTAWAY_HOME", ".hostaway")).resolve()


@dataclass(frozen=True)
class Settings:
    api_url: str
    database_url: str
    secret_key: str | None
    rate_limit_per_ip: int
    rate_limit_per_account: int
    rate_limit_window_s: float
    home: Path
    incremental_cron: str = "*/30 * * * *"
    full_cron: str = "0 3 * * *"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = home_dir(env)
        return cls(
            api_url=_url(env, "HOSTAWAY_API_URL", DEFAULT_API_URL),
            database_url=_database_url(env, home),
            secret_key=env.get("HOSTAWAY_SECRET_KEY") or None,
            rate_limit_per_ip=_positive_int(env, "HOSTAWAY_RATE_LIMIT_PER_IP", 15),
            rate_limit_per_account=_positive_int(env, "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT", 20),
            rate_limit_window_s=_positive_float(env, "HOSTAWAY_RATE_LIMIT_WINDOW_S", 10.0),
            home=home,
            incremental_cron=_cron(env, "HOSTAWAY_INCREMENTAL_CRON", "*/30 * * * *"),
            full_cron=_cron(env, "HOSTAWAY_FULL_CRON", "0 3 * * *"),
        )


def _cron(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    fields = value.split()
    if len(fields) != 5 or not all(set(f) <= set("0123456789*/,-") for f in fields):
        raise SettingsError(f"{name}={value!r} is not a 5-field cron string, e.g. {default!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name}={value!r} is not an http(s) URL, e.g. {default}")
    return value.rstrip("/")


def _database_url(env: Mapping[str, str], home: Path) -> str:
    value = env.get("HOSTAWAY_DATABASE_URL")
    if not value:
        return f"sqlite:///{home / 'warehouse.sqlite'}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise SettingsError(
            "HOSTAWAY_DATABASE_URL is not a SQLAlchemy URL "
            "(e.g. postgresql+psycopg://user@host:5432/db)"
        ) from exc
    if url.get_backend_name() not in ("postgresql", "sqlite"):
        raise SettingsError(
            f"HOSTAWAY_DATABASE_URL uses {url.get_backend_name()!r}; "
            "use postgresql+psycopg:// (production) or sqlite:/// (embedded)"
        )
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be a positive integer")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise SettingsError(f"{name}={raw!r} must be a positive number of seconds")
    return value
