"""Webhook registration state: table `webhook_registrations` (webhooks/store/registrations.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"


def upgrade() -> None:
    op.create_table(
        "webhook_registrations",
        sa.Column("account_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("webhook_id", sa.BigInteger),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_webhook_registrations"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("webhook_registrations", schema=SCHEMA)
