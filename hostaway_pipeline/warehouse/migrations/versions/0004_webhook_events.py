"""Webhook inbox: table `webhook_events` (declared in webhooks/store/events.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"
PAYLOAD = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("event_key", sa.Text, nullable=False),
        sa.Column("account_id", sa.BigInteger, nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("entity_id", sa.BigInteger),
        # NULL once applied: the data then lives in the entity tables (erasure, retention)
        sa.Column("envelope", PAYLOAD, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.Text),
        sa.PrimaryKeyConstraint("event_key", name="pk_webhook_events"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_webhook_events_account_id_applied_at",
        "webhook_events",
        ["account_id", "applied_at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_account_id_applied_at", "webhook_events", schema=SCHEMA)
    op.drop_table("webhook_events", schema=SCHEMA)
