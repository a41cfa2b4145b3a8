"""The warehouse layer: SQLAlchemy tables, migrations, upserts, accounts, tokens and sync state.

No Dagster and no HTTP here; the client reaches this layer only through client.ports protocols.
"""

from __future__ import annotations

from hostaway_pipeline.warehouse import child_marks as child_marks  # registers its table
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline.warehouse import egress as egress  # registers its table
from hostaway_pipeline.warehouse import verifications as verifications  # registers its table
from hostaway_pipeline.warehouse import webhook_events as webhook_events  # registers its table
from hostaway_pipeline.warehouse import webhook_registrations as webhook_registrations  # its table
from hostaway_pipeline.warehouse.accounts import AccountError, AccountInfo, AccountRepo
from hostaway_pipeline.warehouse.db import create_engine, current_revision, upgrade
from hostaway_pipeline.warehouse.ratelimit import SqlRateLimitStore
from hostaway_pipeline.warehouse.secrets import (
    SecretBox,
    SecretKeyError,
    check_key,
    load_secret_box,
)
from hostaway_pipeline.warehouse.state import SyncState, load_state, save_state
from hostaway_pipeline.warehouse.tokens import SqlTokenStore
from hostaway_pipeline.warehouse.writes import (
    BatchCounts,
    live_ids,
    soft_delete_missing,
    upsert_rows,
)

__all__ = [
    "AccountError",
    "AccountInfo",
    "AccountRepo",
    "BatchCounts",
    "SecretBox",
    "SecretKeyError",
    "SqlRateLimitStore",
    "SqlTokenStore",
    "SyncState",
    "check_key",
    "create_engine",
    "current_revision",
    "db",
    "live_ids",
    "load_secret_box",
    "load_state",
    "save_state",
    "schema",
    "soft_delete_missing",
    "upgrade",
    "upsert_rows",
]
