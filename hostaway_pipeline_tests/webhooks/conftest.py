"""Fixtures: a migrated PostgreSQL warehouse with registered accounts and a receiver over HTTP.

`CONFIG` accepts per-account credentials derived from `SECRET` (`keyed` gives an account its key
and returns its Basic-auth pair) and, for tests of the migration, the deprecated shared pair
`LOGIN` / `PASSWORD` (accepted only for accounts not keyed yet).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.warehouse import db
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.support.webhooks import CONFIG as CONFIG
from hostaway_pipeline_tests.support.webhooks import LOGIN as LOGIN
from hostaway_pipeline_tests.support.webhooks import PASSWORD as PASSWORD
from hostaway_pipeline_tests.support.webhooks import SECRET as SECRET
from hostaway_pipeline_tests.support.webhooks import keyed as keyed


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
