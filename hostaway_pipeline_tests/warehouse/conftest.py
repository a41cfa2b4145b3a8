"""Warehouse fixtures: a migrated engine on each backend, and a SecretBox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.warehouse import db


@pytest.fixture
def engine(any_db_url: str) -> Iterator[sa.Engine]:
    """A migrated warehouse, on PostgreSQL (schema `hostaway`) and on SQLite in turn."""
    eng = db.create_engine(any_db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def box(secret_key: str) -> SecretBox:
    """A SecretBox with a fresh key."""
    return SecretBox(secret_key)
