"""Initial warehouse: accounts, tokens, rate-limit buckets, entity tables, sync state, stats, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-20

Written out by hand (not metadata.create_all) so that later changes to schema.py never rewrite
history; tests check that the tables created here match schema.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "hostaway"
TZ = sa.DateTime(timezone=True)
PAYLOAD = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _entity_columns() -> list[sa.Column[object]]:
    """Columns every entity table starts with."""
    return [
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.Column("payload_hash", sa.Text, nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
    ]


def _pk(name: str, *cols: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*cols, name=f"pk_{name}")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("secret_encrypted", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("secret_updated_at", TZ, nullable=False),
        sa.Column("resync_requested_at", TZ),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", TZ),
        sa.Column("credentials_rejected", sa.Boolean, nullable=False),
        _pk("accounts", "account_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "access_tokens",
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("token_encrypted", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        _pk("access_tokens", "account_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "rate_limit_buckets",
        sa.Column("bucket", sa.Text, nullable=False),
        sa.Column("tat", sa.Double, nullable=False),
        _pk("rate_limit_buckets", "bucket"),
        schema=SCHEMA,
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        _pk("meta", "key"),
        schema=SCHEMA,
    )
    op.create_table(
        "sync_state",
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("watermark", TZ),
        sa.Column("last_mode", sa.Text),
        sa.Column("last_started_at", TZ),
        sa.Column("last_finished_at", TZ),
        sa.Column("last_full_sync_at", TZ),
        _pk("sync_state", "account_id", "stream"),
        schema=SCHEMA,
    )
    op.create_table(
        "listings",
        *_entity_columns(),
        sa.Column("name", sa.Text),
        sa.Column("internal_listing_name", sa.Text),
        sa.Column("city", sa.Text),
        sa.Column("country", sa.Text),
        sa.Column("country_code", sa.Text),
        sa.Column("person_capacity", sa.Integer),
        sa.Column("bedrooms_number", sa.Integer),
        sa.Column("bathrooms_number", sa.Numeric),
        sa.Column("price", sa.Numeric),
        sa.Column("currency_code", sa.Text),
        sa.Column("time_zone_name", sa.Text),
        sa.Column("special_status", sa.Text),
        sa.Column("latest_activity_on", TZ),
        _pk("listings", "account_id", "id"),
        schema=SCHEMA,
    )
    op.create_table(
        "reservations",
        *_entity_columns(),
        sa.Column("listing_map_id", sa.BigInteger),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("channel_name", sa.Text),
        sa.Column("channel_reservation_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("arrival_date", sa.Date),
        sa.Column("departure_date", sa.Date),
        sa.Column("nights", sa.Integer),
        sa.Column("number_of_guests", sa.Integer),
        sa.Column("total_price", sa.Numeric),
        sa.Column("currency", sa.Text),
        sa.Column("reservation_date", TZ),
        sa.Column("cancellation_date", TZ),
        sa.Column("inserted_on", TZ),
        sa.Column("updated_on", TZ),
        sa.Column("latest_activity_on", TZ),
        _pk("reservations", "account_id", "id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reservations_account_id_updated_on",
        "reservations",
        ["account_id", "updated_on"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reservations_account_id_listing_map_id_arrival_date",
        "reservations",
        ["account_id", "listing_map_id", "arrival_date"],
        schema=SCHEMA,
    )
    op.create_table(
        "conversations",
        *_entity_columns(),
        sa.Column("listing_map_id", sa.BigInteger),
        sa.Column("reservation_id", sa.BigInteger),
        sa.Column("type", sa.Text),
        sa.Column("has_unread_messages", sa.Boolean),
        sa.Column("message_sent_on", TZ),
        sa.Column("message_received_on", TZ),
        _pk("conversations", "account_id", "id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_conversations_account_id_reservation_id",
        "conversations",
        ["account_id", "reservation_id"],
        schema=SCHEMA,
    )
    op.create_table(
        "messages",
        *_entity_columns(),
        sa.Column("conversation_id", sa.BigInteger),
        sa.Column("reservation_id", sa.BigInteger),
        sa.Column("listing_map_id", sa.BigInteger),
        sa.Column("is_incoming", sa.Boolean),
        sa.Column("is_seen", sa.Boolean),
        sa.Column("communication_type", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("sent_at", TZ),
        sa.Column("inserted_on", TZ),
        sa.Column("updated_on", TZ),
        _pk("messages", "account_id", "id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_messages_account_id_conversation_id",
        "messages",
        ["account_id", "conversation_id"],
        schema=SCHEMA,
    )
    op.create_table(
        "listing_monthly_stats",
        sa.Column("account_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("listing_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("booked_nights", sa.Integer, nullable=False),
        sa.Column("revenue", sa.Numeric(14, 2), nullable=False),
        sa.Column("adr", sa.Numeric(14, 2)),
        sa.Column("occupancy", sa.Float),
        sa.Column("available_nights", sa.Integer, nullable=False),
        sa.Column("computed_at", TZ, nullable=False),
        _pk("listing_monthly_stats", "account_id", "listing_id", "month"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for name in (
        "listing_monthly_stats",
        "messages",
        "conversations",
        "reservations",
        "listings",
        "sync_state",
        "meta",
        "rate_limit_buckets",
        "access_tokens",
        "accounts",
    ):
        op.drop_table(name, schema=SCHEMA)
