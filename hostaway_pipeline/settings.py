"""Environment-driven settings, read and validated in one place."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from hostaway_pipeline.client.config import ClientConfig

DEFAULT_API_URL = "https://api.hostaway.com/v1"
LOOPBACK_NAMES = ("localhost",)
# The egress of a single-IP deployment: every process shares one per-IP bucket, as before.
DEFAULT_EGRESS_ID = "default"
# An egress id names a Celery queue (`egress-<id>`) and a rate bucket: short, plain, lower case.
EGRESS_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class SettingsError(ValueError):
    """A setting from the environment is invalid; the message names the variable."""


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """The local folder of the embedded defaults (SQLite warehouse, generated secret key)."""
    env = os.environ if env is None else env
    return Path(env.get("HOSTAWAY_HOME", ".hostaway")).resolve()


@dataclass(frozen=True)
class Settings:
    """Everything that decides where secrets go and how hard Hostaway is hit: environment only.

    Nothing here is Dagster config, so no run launched from the UI can change it. `repr` shows
    the database URL without its password and never the keys.
    """

    api_url: str
    database_url: str = field(repr=False)
    secret_key: str | None = field(repr=False)
    rate_limit_per_ip: int
    rate_limit_per_account: int
    rate_limit_window_s: float
    home: Path
    incremental_cron: str = "*/30 * * * *"
    full_cron: str = "0 3 * * *"
    # Keys that still open secrets sealed before a rotation (HOSTAWAY_SECRET_KEY_PREVIOUS,
    # comma-separated); new secrets are always sealed with secret_key.
    previous_secret_keys: tuple[str, ...] = field(default=(), repr=False)
    max_concurrency: int = 4
    # Full syncs refetch unmoved conversations' messages at least this often (sync/reverify.py).
    message_reverify_days: int = 7
    # Full syncs re-read every child of an entity whose complete re-read costs at most this many
    # requests for the account (one per live parent); the others keep the slice (sync/reverify.py).
    full_reread_max_requests: int = 200
    # Calendar days are read from this many days back to this many ahead (catalog Window).
    calendar_days: tuple[int, int] = (30, 365)
    # Incremental cadence of an account whose webhooks are healthy (defs/webhooks/cadence.py):
    # polling is then the safety net, and the full reconcile keeps its own schedule.
    webhook_incremental_minutes: int = 60
    # ... and of its unfiltered conversation list (messages), the one list Hostaway cannot filter
    # by time (15 requests for 1,500 conversations): webhooks carry new guest messages meanwhile.
    webhook_conversation_minutes: int = 240
    # Message re-verification period of full syncs for such an account (sync/covered.py says what
    # webhooks leave to it): HOSTAWAY_MESSAGE_REVERIFY_DAYS applies to the others.
    webhook_reverify_days: int = 30
    # The entities accounts sync unless overridden per account (HOSTAWAY_ENTITIES); None: all.
    entities: frozenset[str] | None = None
    # The egress (source IP) this process's requests leave from (HOSTAWAY_EGRESS_ID): the per-IP
    # rate bucket is per egress, the per-account one shared by all (docs/PRODUCTION.md, Multi-host).
    egress_id: str = DEFAULT_EGRESS_ID
    # A URL answering the caller's source address (HOSTAWAY_EGRESS_ECHO_URL; off by default):
    # `hostaway-pipeline worker` checks with it that no other address uses its egress id.
    egress_echo_url: str | None = None

    def client_config(self) -> ClientConfig:
        """The Hostaway client's configuration: the API and limits of these settings only."""
        from hostaway_pipeline.client.config import ClientConfig

        return ClientConfig(
            base_url=self.api_url,
            rate_limit_per_ip=self.rate_limit_per_ip,
            rate_limit_per_account=self.rate_limit_per_account,
            window_s=self.rate_limit_window_s,
            max_concurrency=self.max_concurrency,
            egress_id=self.egress_id,
        )

    def __repr__(self) -> str:
        from hostaway_pipeline.warehouse.errors import safe_url

        return (
            f"Settings(api_url={self.api_url!r}, database_url={safe_url(self.database_url)!r}, "
            f"secret_key={'<hidden>' if self.secret_key else None}, "
            f"previous_secret_keys=<{len(self.previous_secret_keys)} hidden>, "
            f"rate_limit_per_ip={self.rate_limit_per_ip}, "
            f"rate_limit_per_account={self.rate_limit_per_account}, "
            f"rate_limit_window_s={self.rate_limit_window_s}, "
            f"max_concurrency={self.max_concurrency}, "
            f"message_reverify_days={self.message_reverify_days}, "
            f"full_reread_max_requests={self.full_reread_max_requests}, "
            f"calendar_days={self.calendar_days}, "
            f"webhook_incremental_minutes={self.webhook_incremental_minutes}, "
            f"webhook_conversation_minutes={self.webhook_conversation_minutes}, "
            f"webhook_reverify_days={self.webhook_reverify_days}, "
            f"egress_id={self.egress_id!r}, egress_echo_url={self.egress_echo_url!r}, "
            f"home={str(self.home)!r})"
        )

    __str__ = __repr__

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
            previous_secret_keys=tuple(
                k.strip()
                for k in env.get("HOSTAWAY_SECRET_KEY_PREVIOUS", "").split(",")
                if k.strip()
            ),
            max_concurrency=_positive_int(env, "HOSTAWAY_MAX_CONCURRENCY", 4),
            message_reverify_days=_reverify_days(env, "HOSTAWAY_MESSAGE_REVERIFY_DAYS", 7),
            full_reread_max_requests=_requests(env, "HOSTAWAY_FULL_REREAD_MAX_REQUESTS", 200),
            calendar_days=_calendar_days(env),
            webhook_incremental_minutes=_webhook_minutes(env, "INCREMENTAL", 60),
            webhook_conversation_minutes=_webhook_minutes(env, "CONVERSATION", 240),
            webhook_reverify_days=_reverify_days(env, "HOSTAWAY_WEBHOOK_MESSAGE_REVERIFY_DAYS", 30),
            entities=_entities(env),
            egress_id=egress_id(env.get("HOSTAWAY_EGRESS_ID") or DEFAULT_EGRESS_ID),
            egress_echo_url=(
                _url(env, "HOSTAWAY_EGRESS_ECHO_URL", "https://api.ipify.org?format=json")
                if env.get("HOSTAWAY_EGRESS_ECHO_URL")
                else None
            ),
        )


def egress_id(value: str, name: str = "HOSTAWAY_EGRESS_ID") -> str:
    """A valid egress id (lower-case letters, digits, `-` and `_`; at most 40), else SettingsError."""
    if not EGRESS_ID.fullmatch(value):
        raise SettingsError(
            f"{name}={value!r} is not an egress id: 1-40 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit (e.g. egress-a or nat-eu-1)"
        )
    return value


def _cron(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    fields = value.split()
    if len(fields) != 5 or not all(set(f) <= set("0123456789*/,-") for f in fields):
        raise SettingsError(f"{name}={value!r} is not a 5-field cron string, e.g. {default!r}")
    return value


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a server on this machine (the sandbox)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    try:
        parsed = urlparse(value)
        host = parsed.hostname or ""
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not an http(s) URL, e.g. {default}") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise SettingsError(f"{name}={value!r} is not an http(s) URL, e.g. {default}")
    if parsed.username is not None or parsed.password is not None:
        raise SettingsError(f"{name} must not carry a user or password; e.g. {default}")
    if parsed.scheme == "http" and not is_loopback(host):
        # Tokens and client secrets travel in every request: never in clear over a network.
        raise SettingsError(
            f"{name}={value!r} uses http:// on a non-loopback host; use https:// "
            f"(plain http is accepted only for 127.0.0.1, ::1 and localhost, e.g. the sandbox)"
        )
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


def _reverify_days(env: Mapping[str, str], name: str, default: int) -> int:
    value = _positive_int(env, name, default)
    if value > 365:  # beyond a year an edit would stay stale for longer than anyone expects
        raise SettingsError(f"{name}={value} must be between 1 and 365 days (default {default})")
    return value


def _requests(env: Mapping[str, str], name: str, default: int) -> int:
    """A request count: a whole number, 0 or more."""
    raw = (env.get(name) or str(default)).strip()
    if not raw.isascii() or not raw.isdigit():
        raise SettingsError(f"{name}={raw!r} must be a whole number of requests (0 or more)")
    return int(raw)


def _calendar_days(env: Mapping[str, str]) -> tuple[int, int]:
    """(days back, days ahead) of the calendar window; at most 3 years in all."""
    back_raw = env.get("HOSTAWAY_CALENDAR_DAYS_BACK") or "30"
    if not back_raw.strip().isdigit() or not back_raw.isascii():
        raise SettingsError(
            f"HOSTAWAY_CALENDAR_DAYS_BACK={back_raw!r} must be a whole number of days (0 or more)"
        )
    back = int(back_raw)
    ahead = _positive_int(env, "HOSTAWAY_CALENDAR_DAYS_AHEAD", 365)
    if back + ahead > 1096:
        raise SettingsError(
            f"HOSTAWAY_CALENDAR_DAYS_BACK + HOSTAWAY_CALENDAR_DAYS_AHEAD = {back + ahead} days; "
            "the calendar window may span at most 1096 days (3 years)"
        )
    return back, ahead


def _webhook_minutes(env: Mapping[str, str], what: str, default: int) -> int:
    name = f"HOSTAWAY_WEBHOOK_{what}_MINUTES"
    value = _positive_int(env, name, default)
    if value > 1440:  # the daily full reconcile polls at least that often anyway
        raise SettingsError(
            f"{name}={value} must be between 1 and 1440 minutes (default {default})"
        )
    return value


def _entities(env: Mapping[str, str]) -> frozenset[str] | None:
    """HOSTAWAY_ENTITIES: comma-separated table names, validated against the catalog."""
    from hostaway_pipeline.catalog.selection import SelectionError, parse_names

    try:
        return parse_names(env.get("HOSTAWAY_ENTITIES") or "", "HOSTAWAY_ENTITIES")
    except SelectionError as exc:
        raise SettingsError(str(exc)) from None


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
