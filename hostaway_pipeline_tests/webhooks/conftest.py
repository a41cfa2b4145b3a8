"""Fixtures: a migrated PostgreSQL warehouse with registered accounts and a receiver over HTTP.

`CONFIG` accepts per-account credentials derived from `SECRET` (`keyed` gives an account its key
and returns its Basic-auth pair) and, for tests of the migration, the deprecated shared pair
`LOGIN` / `PASSWORD` (accepted only for accounts not keyed yet).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hostaway_pipeline.warehouse import db
from hostaway_pipeline.warehouse import webhook_registrations as registrations
from hostaway_pipeline.warehouse.accounts import AccountRepo
from hostaway_pipeline.warehouse.secrets import SecretBox
from hostaway_pipeline.webhooks.config import WebhookConfig
from hostaway_pipeline.webhooks.credentials import derive, new_key_id
from hostaway_pipeline.webhooks.local import LocalReceiver

SECRET = "receiver secret: 32 characters or more, never on argv"
LOGIN = "hostaway-hooks"
PASSWORD = "correct horse battery staple"
CONFIG = WebhookConfig(SECRET, LOGIN, PASSWORD, max_body_bytes=64 * 1024)


def keyed(
    engine: sa.Engine, account_id: int, url: str = "https://hooks.example/"
) -> tuple[str, str]:
    """Record a registration of the account with a fresh key; its (login, password)."""
    key_id = new_key_id()
    registrations.begin_keying(engine, account_id, url, key_id)
    registrations.record_registered(engine, account_id, 1, url, key_id=key_id)
    cred = derive(SECRET, account_id, key_id)
    return cred.login, cred.password


@pytest.fixture
def pg_engine(fresh_pg_url: str) -> Iterator[sa.Engine]:
    engine = db.create_engine(fresh_pg_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def receiver(pg_engine: sa.Engine, secret_key: str) -> Iterator[LocalReceiver]:
    AccountRepo(pg_engine, SecretBox(secret_key)).add(101, "s" * 40)
    with LocalReceiver(pg_engine, CONFIG) as r:
        yield r
