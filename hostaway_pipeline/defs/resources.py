"""Resources: the warehouse (engine, key, repositories) and Hostaway (clients for accounts).

Both are built once per process from Settings (the environment) and have no Dagster config:
the API URL, rate limits, concurrency, database URL, home and key decide where tokens and
secrets go and how hard Hostaway is hit, so no run launched from the UI or GraphQL may set them.
A run config that tries (`resources: {hostaway: {config: {api_url: ...}}}`) fails validation.

Dagster runs each step in its own process, so nothing here caches across steps in memory alone:
tokens and the rate budget live in the warehouse database, shared by every step, run and host.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline.accounts.repo import AccountError, AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox, load_secret_box
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.defs._support.tags import run_account
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import db
from hostaway_pipeline.warehouse.files import check_home
from hostaway_pipeline.warehouse.locks import process_lock


class Warehouse:
    """The warehouse's engine (migrated once per process), its secret box and repositories."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: sa.Engine | None = None
        self._box: SecretBox | None = None

    def __repr__(self) -> str:
        return f"Warehouse(home={str(self._settings.home)!r})"

    def get_engine(self) -> sa.Engine:
        if self._engine is None:
            check_home(self._settings)
            engine = db.create_engine(self._settings.database_url)
            db.upgrade_once(engine)
            self._engine = engine
        return self._engine

    def secret_box(self) -> SecretBox:
        if self._box is None:
            self._box = load_secret_box(self._settings, engine=self.get_engine())
        return self._box

    def accounts(self) -> AccountRepo:
        return AccountRepo(self.get_engine(), self.secret_box())

    @property
    def relaxed_incremental(self) -> timedelta:
        """The incremental cadence of accounts with healthy webhooks (checks widen windows by it)."""
        return timedelta(minutes=self._settings.webhook_incremental_minutes)

    @property
    def relaxed_conversations(self) -> timedelta:
        """How often such an account's conversation list (and so its messages) is polled."""
        return timedelta(minutes=self._settings.webhook_conversation_minutes)

    def release(self) -> None:
        """Close pooled connections after a run or tick (the engine stays usable)."""
        if self._engine is not None:
            self._engine.dispose()


class Hostaway:
    """Builds Hostaway clients for accounts, for the API and limits of Settings only."""

    def __init__(self, settings: Settings) -> None:
        self._config = settings.client_config()
        # How hard a full sync hits Hostaway, so from the environment only (never run config).
        self.reverify_every = timedelta(days=settings.message_reverify_days)
        # ... and for an account whose webhooks are healthy (they deliver its messages).
        self.reverify_every_hooked = timedelta(days=settings.webhook_reverify_days)
        # Children this cheap to re-read whole are re-read by every full sync (sync/reverify.py).
        self.reread_max_requests = settings.full_reread_max_requests
        self.window_days = settings.calendar_days
        self.entities = settings.entities  # HOSTAWAY_ENTITIES (None: all); see selection.py

    def __repr__(self) -> str:
        return f"Hostaway(api_url={self._config.base_url!r})"

    @property
    def config(self) -> ClientConfig:
        return self._config

    def client_for(
        self, account_id: int, warehouse: Warehouse, logger: logging.Logger | None = None
    ) -> HostawayClient:
        """A client for an active registered account; close it after use.

        One per step, so its request log lines land in that step's logs; the token still comes
        from process memory or the warehouse, never from a new token request.
        """
        repo = warehouse.accounts()
        info = repo.get(account_id)  # raises AccountError naming how to register the account
        if not info.active:
            raise AccountError(
                f"account {account_id} is disabled; enable it with "
                f"`hostaway-pipeline accounts enable {account_id}`"
            )
        if info.credentials_rejected:
            raise AccountError(
                f"account {account_id}: Hostaway rejected its client secret in an earlier run; "
                f"update it with `hostaway-pipeline accounts set-secret {account_id}`"
            )
        engine = warehouse.get_engine()
        return HostawayClient(
            account_id,
            repo.client_secret(account_id),
            self._config,
            SqlTokenStore(engine, warehouse.secret_box()),
            SqlRateLimitStore(engine),
            logger=logger,
        )


# Annotations for asset, sensor and schedule parameters.
WarehouseResource = dg.ResourceParam[Warehouse]
HostawayResource = dg.ResourceParam[Hostaway]


def _fixed(value: Warehouse | Hostaway, description: str) -> dg.ResourceDefinition:
    """A resource with an empty config schema: any run config for it is refused.

    The warehouse of a run that syncs one account holds that account's run lock for the whole
    run (see `account_run_lock`), so no two runs of one account sync at once, however launched.
    """

    def _provide(context: dg.InitResourceContext) -> Iterator[Warehouse | Hostaway]:
        account = run_account(context.run.tags) if context.run else None
        try:
            if isinstance(value, Warehouse) and account is not None:
                with account_run_lock(value.get_engine(), account, context.log):
                    yield value
            else:
                yield value
        finally:
            if isinstance(value, Warehouse):
                value.release()

    return dg.ResourceDefinition(resource_fn=_provide, config_schema={}, description=description)


@contextmanager
def account_run_lock(
    engine: sa.Engine, account: str, log: logging.Logger | dg.DagsterLogManager | None
) -> Iterator[None]:
    """Held for a whole run of one account. The run queue's one-run-per-account limit counts
    runs by their `dagster/partition` tag; a run launched without it (a single-partition range
    from the launchpad or a backfill) is not counted there, so it waits here instead."""
    started = time.monotonic()
    with process_lock(engine, f"hostaway_pipeline.account_run.{account}"):
        waited = time.monotonic() - started
        if waited >= 1 and log is not None:
            log.info(f"account {account}: waited {waited:.0f} s for its other running sync")
        yield


def resources_from_settings(settings: Settings) -> dict[str, dg.ResourceDefinition]:
    """The resource set, built once from `settings` (the environment); no run config."""
    return {
        "warehouse": _fixed(
            Warehouse(settings), "The warehouse (HOSTAWAY_DATABASE_URL, HOSTAWAY_HOME)."
        ),
        "hostaway": _fixed(
            Hostaway(settings), "Hostaway clients (HOSTAWAY_API_URL, HOSTAWAY_RATE_LIMIT_*)."
        ),
    }
