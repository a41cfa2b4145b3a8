"""Entity selection and availability: `accounts.entities` (an account's own selection) and table
`entity_availability` (entities Hostaway refuses to an account; warehouse/availability.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"


def _schema() -> str | None:
    # ALTER TABLE is not rewritten by SQLite's schema_translate_map (CREATE TABLE is).
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("entities", sa.Text), schema=_schema())
    op.create_table(
        "entity_availability",
        sa.Column("account_id", sa.BigInteger, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.PrimaryKeyConstraint("account_id", "entity", name="pk_entity_availability"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("entity_availability", schema=SCHEMA)
    with op.batch_alter_table("accounts", schema=_schema()) as batch:
        batch.drop_column("entities")
