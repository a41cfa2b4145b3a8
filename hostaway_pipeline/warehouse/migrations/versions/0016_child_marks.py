"""The children's watermark apart from the parent row: table `child_marks`
(warehouse/child_marks.py). Empty at first: a parent without marks is compared with its row.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SCHEMA = "hostaway"


def upgrade() -> None:
    op.create_table(
        "child_marks",
        sa.Column("account_id", sa.BigInteger, nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("parent_id", sa.BigInteger, nullable=False),
        sa.Column("marks", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "stream", "parent_id", name="pk_child_marks"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("child_marks", schema=SCHEMA)
