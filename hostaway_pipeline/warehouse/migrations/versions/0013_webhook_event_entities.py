"""Index `webhook_events` by the entity an event delivered, so a sync can tell which stored
messages came by webhook (sync/covered.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"
NAME = "ix_webhook_events_account_id_object_entity_id"


def upgrade() -> None:
    op.create_index(NAME, "webhook_events", ["account_id", "object", "entity_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index(NAME, table_name="webhook_events", schema=SCHEMA)
