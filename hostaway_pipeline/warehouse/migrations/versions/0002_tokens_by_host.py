"""Access tokens keyed by API host and account.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Tokens cached so far were keyed by account only, so which host issued them is unknown: they are
dropped (a cache; each account mints one new token on its next run) and the table is rebuilt
with `api_host` in its primary key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("access_tokens", schema=SCHEMA)
    op.create_table(
        "access_tokens",
        sa.Column("api_host", sa.Text, nullable=False),
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("token_encrypted", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("api_host", "account_id", name="pk_access_tokens"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("access_tokens", schema=SCHEMA)
    op.create_table(
        "access_tokens",
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("token_encrypted", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_access_tokens"),
        schema=SCHEMA,
    )
