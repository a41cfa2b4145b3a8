"""A Hostaway client for one registered account, for the CLI's webhook commands (no Dagster).

The same limits, token store and rate budget as the syncs: registration requests count against
the account's and the IP's budget like any other request.
"""

from __future__ import annotations

import sqlalchemy as sa

from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client.client import HostawayClient
from hostaway_pipeline.settings import Settings


def account_client(
    settings: Settings, engine: sa.Engine, box: SecretBox, account_id: int
) -> HostawayClient:
    """A client for `account_id` (AccountError naming `accounts add` when it is unknown)."""
    repo = AccountRepo(engine, box)
    return HostawayClient(account_id, repo.client_secret(account_id), settings.client_config(),
                          SqlTokenStore(engine, box), SqlRateLimitStore(engine))  # fmt: skip
