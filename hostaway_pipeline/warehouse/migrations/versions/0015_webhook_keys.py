"""Per-account webhook credentials: the key id each account's password is derived from
(webhooks/credentials.py), the one a registration in flight is installing, and the time of the
last re-keying. Nothing secret: the receiver secret stays in the environment.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"
TABLE = "webhook_registrations"


def _schema() -> str | None:
    # SQLite has no schemas: env.py maps "hostaway" away for create_table, not for ALTER.
    return SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("key_id", sa.Text), schema=_schema())
    op.add_column(TABLE, sa.Column("pending_key_id", sa.Text), schema=_schema())
    op.add_column(TABLE, sa.Column("keyed_at", sa.DateTime(timezone=True)), schema=_schema())


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=_schema()) as batch:
        batch.drop_column("keyed_at")
        batch.drop_column("pending_key_id")
        batch.drop_column("key_id")
