"""Egresses: `accounts.egress` (an account pinned to an egress) and table `egress_addresses`
(which source address each egress id was seen from) and `account_costs` (projected requests
per day, for placing accounts on egresses); egress/store.py.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"


def _schema() -> str | None:
    # ALTER TABLE is not rewritten by SQLite's schema_translate_map (CREATE TABLE is).
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("egress", sa.Text), schema=_schema())
    op.create_table(
        "egress_addresses",
        sa.Column("egress_id", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("egress_id", "address", name="pk_egress_addresses"),
        schema=SCHEMA,
    )
    op.create_table(
        "account_costs",
        sa.Column("account_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("requests_per_day", sa.Double, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_costs"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("account_costs", schema=SCHEMA)
    op.drop_table("egress_addresses", schema=SCHEMA)
    with op.batch_alter_table("accounts", schema=_schema()) as batch:
        batch.drop_column("egress")
