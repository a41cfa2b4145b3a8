"""Cheaper full reconcile: table `child_verifications` (declared in warehouse/verifications.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"


def upgrade() -> None:
    op.create_table(
        "child_verifications",
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("parent_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "stream", "parent_id", name="pk_child_verifications"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("child_verifications", schema=SCHEMA)
