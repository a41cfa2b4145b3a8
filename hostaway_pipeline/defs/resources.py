"""Resources: the warehouse (the engine, injected) and Hostaway (clients with the cached-token auth).

Dagster runs each step in its own process, so nothing here caches across steps in memory alone:
tokens and the rate budget live in the warehouse database, shared by every step, run and host.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import db
from hostaway_pipeline.warehouse.accounts import AccountError, AccountRepo
from hostaway_pipeline.warehouse.ratelimit import SqlRateLimitStore
from hostaway_pipeline.warehouse.secrets import SecretBox, load_secret_box
from hostaway_pipeline.warehouse.tokens import SqlTokenStore


class WarehouseResource(dg.ConfigurableResource):
    """Hands out the warehouse's SQLAlchemy engine (migrated on first use) and its repositories."""

    database_url: str
    home: str = ".hostaway"

    _engine: sa.Engine | None = PrivateAttr(default=None)
    _box: SecretBox | None = PrivateAttr(default=None)

    def get_engine(self) -> sa.Engine:
        if self._engine is None:
            engine = db.create_engine(self.database_url)
            db.upgrade(engine)
            self._engine = engine
        return self._engine

    def secret_box(self) -> SecretBox:
        if self._box is None:
            settings = Settings.from_env()
            self._box = load_secret_box(settings, home=Path(self.home), engine=self.get_engine())
        return self._box

    def accounts(self) -> AccountRepo:
        return AccountRepo(self.get_engine(), self.secret_box())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()


class HostawayResource(dg.ConfigurableResource):
    """Builds Hostaway clients for accounts; tokens and rate budget are shared via the warehouse."""

    api_url: str = "https://api.hostaway.com/v1"
    rate_limit_per_ip: int = 15
    rate_limit_per_account: int = 20
    rate_limit_window_s: float = 10.0
    max_concurrency: int = 4

    def client_for(
        self, account_id: int, warehouse: WarehouseResource, logger: logging.Logger | None = None
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
            ClientConfig(
                base_url=self.api_url,
                rate_limit_per_ip=self.rate_limit_per_ip,
                rate_limit_per_account=self.rate_limit_per_account,
                window_s=self.rate_limit_window_s,
                max_concurrency=self.max_concurrency,
            ),
            SqlTokenStore(engine, warehouse.secret_box()),
            SqlRateLimitStore(engine),
            logger=logger,
        )


def resources_from_settings(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The production resource set, configured from the environment."""
    # Env-sourced values show in the UI as the variable's name, never as a URL with a password.
    database_url: str = settings.database_url
    if os.environ.get("HOSTAWAY_DATABASE_URL"):
        database_url = dg.EnvVar("HOSTAWAY_DATABASE_URL")
    return {
        "warehouse": WarehouseResource(database_url=database_url, home=str(settings.home)),
        "hostaway": HostawayResource(
            api_url=settings.api_url,
            rate_limit_per_ip=settings.rate_limit_per_ip,
            rate_limit_per_account=settings.rate_limit_per_account,
            rate_limit_window_s=settings.rate_limit_window_s,
        ),
    }
