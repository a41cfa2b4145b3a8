"""The warehouse tables (SQLAlchemy Core), all in schema `hostaway` (no schema on SQLite).

Entity tables share one shape: PK (account_id, id), the raw `payload` (JSONB on PostgreSQL), its
hash, bookkeeping timestamps and typed columns extracted from the payload. There are no foreign
keys between entity tables on purpose: Hostaway may return a reservation whose listing is not
stored yet (or was deleted), and the mirror must keep it.

The migrations in `migrations/versions` create these tables; a test checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

SCHEMA = "hostaway"

# Named like the migrations name them, so the two can be compared.
metadata = sa.MetaData(schema=SCHEMA, naming_convention={"pk": "pk_%(table_name)s"})


class UTCDateTime(sa.TypeDecorator[datetime]):
    """TIMESTAMPTZ that only accepts aware datetimes and always returns aware UTC ones.

    SQLite has no time zones: values are stored as naive UTC text and read back as UTC.
    Naive datetimes are rejected so that a time zone mistake cannot be stored silently.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.__class__ is datetime and value.tzinfo is UTC and dialect.name != "sqlite":
            return value  # the common case, kept cheap: this runs for every timestamp written
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: attach a time zone (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Payload = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TZ = UTCDateTime


def _entity(
    name: str, *columns: sa.Column[Any], indexes: tuple[tuple[str, ...], ...] = ()
) -> sa.Table:
    """An entity table: the shared columns, the typed `columns`, and (account_id, ...) indexes."""
    table = sa.Table(
        name,
        metadata,
        sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("payload", Payload, nullable=False),
        sa.Column("payload_hash", sa.Text, nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
        *columns,
    )
    for cols in indexes:
        sa.Index(f"ix_{name}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    return table


listings = _entity(
    "listings",
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
)

reservations = _entity(
    "reservations",
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
    indexes=(("account_id", "updated_on"), ("account_id", "listing_map_id", "arrival_date")),
)

conversations = _entity(
    "conversations",
    sa.Column("listing_map_id", sa.BigInteger),
    sa.Column("reservation_id", sa.BigInteger),
    sa.Column("type", sa.Text),
    sa.Column("has_unread_messages", sa.Boolean),
    sa.Column("message_sent_on", TZ),
    sa.Column("message_received_on", TZ),
    indexes=(("account_id", "reservation_id"),),
)

messages = _entity(
    "messages",
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
    indexes=(("account_id", "conversation_id"),),
)

# The entity tables by stream name, for the sync engine's specs.
ENTITY_TABLES: dict[str, sa.Table] = {
    t.name: t for t in (listings, reservations, conversations, messages)
}

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("secret_encrypted", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("updated_at", TZ, nullable=False),
    sa.Column("secret_updated_at", TZ, nullable=False),
    sa.Column("resync_requested_at", TZ),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", TZ),
    sa.Column("credentials_rejected", sa.Boolean, nullable=False),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("stream", sa.Text, primary_key=True),
    sa.Column("watermark", TZ),
    sa.Column("last_mode", sa.Text),
    sa.Column("last_started_at", TZ),
    sa.Column("last_finished_at", TZ),
    sa.Column("last_full_sync_at", TZ),
)

# token_hash (SHA-256 hex of the plain token) makes compare-and-swap possible:
# Fernet ciphertexts are randomised, so equal tokens never have equal ciphertexts.
# api_host (the API's origin, e.g. "https://api.hostaway.com") is part of the key: a token is only
# ever handed to a client talking to the host that issued it.
access_tokens = sa.Table(
    "access_tokens",
    metadata,
    sa.Column("api_host", sa.Text, primary_key=True),
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("token_encrypted", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False),
    sa.Column("issued_at", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
)

# GCRA state: tat = theoretical arrival time of the next request, in epoch seconds.
rate_limit_buckets = sa.Table(
    "rate_limit_buckets",
    metadata,
    sa.Column("bucket", sa.Text, primary_key=True),
    sa.Column("tat", sa.Double, nullable=False),
)

listing_monthly_stats = sa.Table(
    "listing_monthly_stats",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("listing_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("booked_nights", sa.Integer, nullable=False),
    sa.Column("revenue", sa.Numeric(14, 2), nullable=False),
    sa.Column("adr", sa.Numeric(14, 2)),
    sa.Column("occupancy", sa.Float),
    sa.Column("available_nights", sa.Integer, nullable=False),
    sa.Column("computed_at", TZ, nullable=False),
)

# Guest erasure rules (see warehouse/erasure.py): kind "reservation" or "conversation" with the id
# as text, or "email" with the SHA-256 of the address; never personal data itself.
erasures = sa.Table(
    "erasures",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("erased_at", TZ, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def table(name: str) -> sa.Table:
    """A warehouse table by its (unqualified) name, e.g. table("reservations")."""
    found = metadata.tables.get(f"{SCHEMA}.{name}")
    if found is None:
        raise KeyError(
            f"no warehouse table {name!r}; tables: {sorted(t.name for t in metadata.sorted_tables)}"
        )
    return found


def typed_columns(table: sa.Table) -> list[str]:
    """The typed (payload-derived) columns of an entity table."""
    shared = {
        "account_id",
        "id",
        "payload",
        "payload_hash",
        "first_seen_at",
        "synced_at",
        "deleted_at",
    }
    return [c.name for c in table.columns if c.name not in shared]
