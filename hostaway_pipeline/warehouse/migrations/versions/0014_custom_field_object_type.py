"""Custom fields of every object type: `custom_fields` is read from `/v1/customFields` (reservation,
listing and task fields) instead of the deprecated `/v1/reservations/customFields`; the new column
`object_type` says which. Rows stored before keep their key (account_id, id), payload and
deleted_at; their `object_type` is filled from the payload (the deprecated endpoint sent it too).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"


def upgrade() -> None:
    on_pg = op.get_bind().dialect.name == "postgresql"
    # ALTER TABLE is not rewritten by SQLite's schema_translate_map (CREATE TABLE is).
    op.add_column(
        "custom_fields", sa.Column("object_type", sa.Text()), schema=SCHEMA if on_pg else None
    )
    value = "payload->>'objectType'" if on_pg else "json_extract(payload, '$.objectType')"
    table = f"{SCHEMA}.custom_fields" if on_pg else "custom_fields"
    op.execute(f"UPDATE {table} SET object_type = {value}")


def downgrade() -> None:
    on_pg = op.get_bind().dialect.name == "postgresql"
    op.drop_column("custom_fields", "object_type", schema=SCHEMA if on_pg else None)
