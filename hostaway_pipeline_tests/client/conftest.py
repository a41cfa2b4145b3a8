"""Client test fixtures: a client factory for the sandbox, and shared PostgreSQL-backed stores."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.client.auth import clear_memory_cache
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline.client.ports import RateLimitStore, TokenStore
from hostaway_pipeline_tests.conftest import _ensure_database, database_beside
from hostaway_pipeline_tests.support.sandboxes import seeded_sandbox
from hostaway_sandbox import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The root sandbox with Hostaway's real limits (15/IP, 20/account per 1 s): the client's pacing
    and its answers to 429s are what these tests are about."""
    with seeded_sandbox(limited=True) as server:
        yield server


@pytest.fixture(autouse=True)
def _cold_process_cache() -> Iterator[None]:
    """Each test starts with no token cached in this process (sandboxes reuse account ids)."""
    clear_memory_cache()
    yield
    clear_memory_cache()


def fast_config(url: str, **overrides: Any) -> ClientConfig:
    """A config for the sandbox fixture's limits (15/IP, 20/account per 1 s) with quick backoff."""
    settings: dict[str, Any] = {
        "base_url": url,
        "rate_limit_per_ip": 15,
        "rate_limit_per_account": 20,
        "window_s": 1.0,
        "backoff_base_s": 0.02,
        "backoff_cap_s": 0.2,
        "token_activation_delay_s": 0.1,
        "read_timeout_s": 2.0,
        "page_size": 10,
    }
    settings.update(overrides)
    return ClientConfig(**settings)


@dataclass
class Stores:
    """A token store and a rate-limit store used together."""

    tokens: TokenStore
    rates: RateLimitStore


MakeClient = Callable[..., HostawayClient]


@pytest.fixture
def stores() -> Stores:
    """Fresh in-process stores."""
    return Stores(MemoryTokenStore(), MemoryRateLimitStore())


@pytest.fixture
def make_client(sandbox: Any, stores: Stores) -> Iterator[MakeClient]:
    """Build clients for the sandbox fixture: make_client(account_index=0, secret=None, **cfg)."""
    made: list[HostawayClient] = []

    def make(
        account_index: int = 0,
        secret: str | None = None,
        stores_: Stores | None = None,
        logger: logging.Logger | None = None,
        **overrides: Any,
    ) -> HostawayClient:
        aid = sandbox.state.account_ids()[account_index]
        used = stores_ or stores
        client = HostawayClient(
            aid,
            sandbox.state.secret(aid) if secret is None else secret,
            fast_config(sandbox.url, **overrides),
            used.tokens,
            used.rates,
            logger=logger,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@dataclass(frozen=True)
class Warehouse:
    """What a process needs to open the warehouse's SQL stores on PostgreSQL."""

    url: str
    secret_key: str


@pytest.fixture(scope="session")
def _client_pg(pg_url: str) -> str:
    # The client tests get their own database: the warehouse tests drop the `hostaway` schema of
    # the shared test database whenever they like, which must not pull tables from under our processes.
    client_url = database_beside(pg_url, "_client")
    _ensure_database(client_url)
    from hostaway_pipeline.warehouse import db

    engine = db.create_engine(client_url)
    db.upgrade(engine)
    engine.dispose()
    return client_url


@pytest.fixture
def warehouse(_client_pg: str, secret_key: str) -> Warehouse:
    """The migrated client test database with no cached token and no rate-limit state."""
    engine = sa.create_engine(_client_pg)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM hostaway.access_tokens"))
        conn.execute(sa.text("DELETE FROM hostaway.rate_limit_buckets"))
    engine.dispose()
    return Warehouse(_client_pg, secret_key)
