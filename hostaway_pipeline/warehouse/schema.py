"""The warehouse tables (SQLAlchemy Core), all in schema `hostaway` (no schema on SQLite).

Entity tables are derived from the catalog (`catalog.CATALOG`, see `entity_table`) and share one
shape: PK (account_id, id) (account_id 0 for global lists; `id` text for keys other than the API's
integer id), the raw `payload` (JSONB on PostgreSQL), its hash, bookkeeping
timestamps and the spec's typed columns extracted from the payload. There are no foreign
keys between entity tables on purpose: Hostaway may return a reservation whose listing is not
stored yet (or was deleted), and the mirror must keep it.

The migrations in `migrations/versions` create these tables; a test checks the two agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import SHARED_COLUMNS, Kind, StreamSpec
from hostaway_pipeline.warehouse.types import TZ, Payload

SCHEMA = "hostaway"

# Named like the migrations name them, so the two can be compared.
metadata = sa.MetaData(schema=SCHEMA, naming_convention={"pk": "pk_%(table_name)s"})


def _sql_type(kind: Kind) -> Any:
    """The column type of a spec field's kind (the only place kinds meet SQL types)."""
    return {
        Kind.INT: sa.Integer(),
        Kind.BIGINT: sa.BigInteger(),
        Kind.STR: sa.Text(),
        Kind.BOOL: sa.Boolean(),
        Kind.DATETIME: TZ(),
        Kind.DATE: sa.Date(),
        Kind.DECIMAL: sa.Numeric(),
    }[kind]


def entity_table(spec: StreamSpec, target: sa.MetaData | None = None) -> sa.Table:
    """The table of a catalog entry: the shared columns, its typed fields and its indexes.

    Derived, never declared by hand: the spec's `fields` are the only place a typed column is named.
    Asking twice for the same spec returns the table already in `target` (the module's metadata).
    """
    target = metadata if target is None else target
    existing = target.tables.get(f"{SCHEMA}.{spec.table}")
    if existing is not None:
        return existing
    table = sa.Table(
        spec.table,
        target,
        sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
        # The API's integer id, or the text of the spec's key columns ("12|2026-01-31").
        sa.Column(
            "id", sa.Text if spec.text_id else sa.BigInteger, primary_key=True, autoincrement=False
        ),
        sa.Column("payload", Payload, nullable=False),
        sa.Column("payload_hash", sa.Text, nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
        *(sa.Column(f.column, _sql_type(f.kind)) for f in spec.fields),
    )
    for cols in spec.indexes:
        sa.Index(f"ix_{spec.table}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    return table


# The entity tables by name, derived from the catalog (streams.CATALOG).
ENTITY_TABLES: dict[str, sa.Table] = {spec.table: entity_table(spec) for spec in streams.CATALOG}
listings = ENTITY_TABLES["listings"]
reservations = ENTITY_TABLES["reservations"]
conversations = ENTITY_TABLES["conversations"]
messages = ENTITY_TABLES["messages"]

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
    # The entities this account syncs (comma-separated table names); NULL: HOSTAWAY_ENTITIES.
    sa.Column("entities", sa.Text),
    # The egress (HOSTAWAY_EGRESS_ID of a worker) this account's runs are pinned to; NULL: placed
    # by projected cost (`hostaway-pipeline accounts egress ID EGRESS`, egress/placement.py).
    sa.Column("egress", sa.Text),
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
    # Added with the calendar (0011): where the nights come from (marts/analytics.py has the lineage).
    sa.Column("blocked_nights", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("calendar_nights", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("stay_nights", sa.Integer, nullable=False, server_default=sa.text("0")),
)

# One row per live reservation, its finance fields pivoted into columns (marts/financials.py). Ids,
# dates, money and counts only: no guest data.
reservation_financials = sa.Table(
    "reservation_financials",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("reservation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("listing_id", sa.BigInteger),
    sa.Column("channel_id", sa.BigInteger),
    sa.Column("status", sa.Text),
    sa.Column("arrival_date", sa.Date),
    sa.Column("departure_date", sa.Date),
    sa.Column("nights", sa.Integer),
    sa.Column("currency", sa.Text),
    sa.Column("base_rate", sa.Numeric(14, 2)),
    sa.Column("cleaning_fee", sa.Numeric(14, 2)),
    sa.Column("other_fees", sa.Numeric(14, 2)),
    sa.Column("discounts", sa.Numeric(14, 2)),
    sa.Column("taxes", sa.Numeric(14, 2)),
    sa.Column("channel_fee", sa.Numeric(14, 2)),
    sa.Column("total", sa.Numeric(14, 2)),
    sa.Column("total_price", sa.Numeric(14, 2)),
    sa.Column("finance_fields", sa.Integer, nullable=False),
    sa.Column("computed_at", TZ, nullable=False),
)

# Guest erasure rules (see privacy/erasure.py): kind "reservation" or "conversation" with the id
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


# Tables of the features built on the entities: availability, child marks and verifications
# (sync), the webhook inbox and registrations (webhooks/), egress addresses and costs (egress/).
entity_availability = sa.Table(
    "entity_availability",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("since", TZ, nullable=False),
    sa.Column("checked_at", TZ, nullable=False),
    sa.Column("status", sa.Integer),  # the HTTP status Hostaway answered (403, 404)
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("request_id", sa.Text),  # of the refused request, to report it to Hostaway
)

child_marks = sa.Table(
    "child_marks",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True),
    sa.Column("stream", sa.Text, primary_key=True),  # the child stream, e.g. "messages"
    sa.Column("parent_id", sa.BigInteger, primary_key=True),
    sa.Column("marks", sa.Text, nullable=False),  # {"messageSentOn": "2026-...", ...} as served
)

child_verifications = sa.Table(
    "child_verifications",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("stream", sa.Text, primary_key=True),  # the child stream, e.g. "messages"
    sa.Column("parent_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("verified_at", TZ, nullable=False),
)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("event_key", sa.Text, primary_key=True),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("entity_id", sa.BigInteger),
    sa.Column("envelope", Payload),  # NULL once applied
    sa.Column("received_at", TZ, nullable=False),
    sa.Column("last_received_at", TZ, nullable=False),
    sa.Column("deliveries", sa.Integer, nullable=False),
    sa.Column("applied_at", TZ),
    # applied | stale | duplicate | ignored (an event this version does not apply)
    sa.Column("outcome", sa.Text),
)
sa.Index(
    "ix_webhook_events_account_id_applied_at",
    webhook_events.c.account_id,
    webhook_events.c.applied_at,
)
# Which stored rows a webhook delivered (sync/covered.py asks by entity id).
sa.Index(
    "ix_webhook_events_account_id_object_entity_id",
    webhook_events.c.account_id,
    webhook_events.c.object,
    webhook_events.c.entity_id,
)

webhook_registrations = sa.Table(
    "webhook_registrations",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),  # registered | failed
    sa.Column("webhook_id", sa.BigInteger),  # Hostaway's id of the unified webhook
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),  # failed attempts since the last success
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", TZ, nullable=False),
    sa.Column("key_id", sa.Text),  # the current credential's key id (None: shared pair, legacy)
    sa.Column("pending_key_id", sa.Text),  # being installed by a registration in flight
    sa.Column("keyed_at", TZ),
)

egress_addresses = sa.Table(
    "egress_addresses",
    metadata,
    sa.Column("egress_id", sa.Text, primary_key=True),
    sa.Column("address", sa.Text, primary_key=True),  # the source address the echo saw
    sa.Column("hostname", sa.Text, nullable=False),  # the machine that saw it (for the message)
    sa.Column("first_seen_at", TZ, nullable=False),
    sa.Column("seen_at", TZ, nullable=False),
)

# Each account's projected requests per day (the budget's figure), for placing it on an egress.
account_costs = sa.Table(
    "account_costs",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("requests_per_day", sa.Double, nullable=False),
    sa.Column("computed_at", TZ, nullable=False),
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
    return [c.name for c in table.columns if c.name not in SHARED_COLUMNS]
