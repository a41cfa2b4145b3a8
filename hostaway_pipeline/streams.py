"""The entity catalog: one frozen spec per entity, the single source everything else derives from.

From each spec are derived: its warehouse table (`warehouse/schema.py`: shared columns plus the
typed `fields`, and `indexes`), its Dagster asset (key, description, kinds, owners, column schema,
checks: `defs/assets.py`, `defs/checks.py`), the run config of scheduled and sensor runs
(`defs/config.py`), the soft-delete scope (`parent_key_column`) and the tests' parametrisation.
Adding an entity is one spec here, listed in `CATALOG`, plus the migration generated from it
(`python -m hostaway_pipeline.warehouse.revision "add <entity>"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a payload field is typed into its warehouse column."""

    INT = "int"  # PostgreSQL integer (counts)
    BIGINT = "bigint"  # PostgreSQL bigint (ids)
    STR = "str"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    DECIMAL = "decimal"


class Pagination(StrEnum):
    OFFSET = "offset"  # limit/offset with the envelope's total `count`
    KEYSET = "keyset"  # `afterId` over the endpoint's default order


class Incremental(StrEnum):
    # `latestActivityStart` (a date) since the watermark minus the lookback; every page is read.
    LATEST_ACTIVITY = "latest_activity"
    # Newest-first order by the cursor: stop paging once rows are older than watermark - lookback.
    NEWEST_FIRST = "newest_first"
    # Children of parents whose change fields moved since the last sync (messages of conversations).
    CHANGED_PARENTS = "changed_parents"
    # No server-side filter: every page is read each time (cheap parents such as conversations).
    FULL_LISTING = "full_listing"


# Columns every entity table has besides its typed ones (see warehouse/schema.py).
SHARED_COLUMNS = frozenset(
    {"account_id", "id", "payload", "payload_hash", "first_seen_at", "synced_at", "deleted_at"}
)


@dataclass(frozen=True)
class Field:
    column: str
    source: str
    kind: Kind


@dataclass(frozen=True)
class StreamSpec:
    name: str
    path: str  # relative to the API base; children use "{parent_id}"
    table: str
    pagination: Pagination
    incremental: Incremental
    fields: tuple[Field, ...]
    cursor_field: str | None = None  # payload field whose max is the stream's watermark
    parent: StreamSpec | None = None
    # Parent fields whose movement means the parent has new children (messages of a conversation).
    parent_change_fields: tuple[str, ...] = ()
    parent_key_column: str | None = None  # child column holding the parent id (soft-delete scope)
    params: tuple[tuple[str, str], ...] = ()
    description: str = ""  # the asset's description in the Dagster UI
    # Secondary indexes of the table, each led by account_id: ("account_id", "updated_on"), ...
    indexes: tuple[tuple[str, ...], ...] = ()
    # False: the entity has no asset of its own; it is synced and materialized through the asset
    # of its child stream (conversations, listed page by page while messages are fetched).
    standalone: bool = True

    def __post_init__(self) -> None:
        columns = [f.column for f in self.fields]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        reserved = sorted(set(columns) & SHARED_COLUMNS)
        if dupes or reserved:
            raise ValueError(
                f"stream {self.name!r}: typed columns {dupes or reserved} are declared twice or "
                f"clash with the shared columns {sorted(SHARED_COLUMNS)}: rename them in the spec"
            )
        if self.parent is not None and self.parent_key_column not in columns:
            raise ValueError(
                f"child stream {self.name!r}: parent_key_column {self.parent_key_column!r} must "
                "be one of its typed columns (it scopes soft-deletes to one parent)"
            )
        for index in self.indexes:
            unknown = [c for c in index if c not in columns and c not in SHARED_COLUMNS]
            if unknown:
                raise ValueError(f"stream {self.name!r}: index {index} names no column {unknown}")

    @property
    def asset_name(self) -> str:
        """The op name of the stream's asset (run config is keyed by it)."""
        return f"hostaway__{self.name}"

    def typed_columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.fields)


def _f(column: str, source: str, kind: Kind) -> Field:
    return Field(column, source, kind)


LISTINGS = StreamSpec(
    name="listings",
    path="/listings",
    table="listings",
    pagination=Pagination.OFFSET,
    incremental=Incremental.LATEST_ACTIVITY,
    cursor_field="latestActivityOn",
    description="Hostaway listings of the account (GET /v1/listings), one row per listing.",
    fields=(
        _f("name", "name", Kind.STR),
        _f("internal_listing_name", "internalListingName", Kind.STR),
        _f("city", "city", Kind.STR),
        _f("country", "country", Kind.STR),
        _f("country_code", "countryCode", Kind.STR),
        _f("person_capacity", "personCapacity", Kind.INT),
        _f("bedrooms_number", "bedroomsNumber", Kind.INT),
        _f("bathrooms_number", "bathroomsNumber", Kind.DECIMAL),
        _f("price", "price", Kind.DECIMAL),
        _f("currency_code", "currencyCode", Kind.STR),
        _f("time_zone_name", "timeZoneName", Kind.STR),
        _f("special_status", "specialStatus", Kind.STR),
        _f("latest_activity_on", "latestActivityOn", Kind.DATETIME),
    ),
)

RESERVATIONS = StreamSpec(
    name="reservations",
    path="/reservations",
    table="reservations",
    pagination=Pagination.KEYSET,
    # Not NEWEST_FIRST on updatedOn: guest messages move a reservation's latestActivityOn (and so
    # its payload) without touching updatedOn, and an updatedOn cursor would never see them.
    incremental=Incremental.LATEST_ACTIVITY,
    cursor_field="latestActivityOn",
    description="Hostaway reservations of the account (GET /v1/reservations), keyset-paged.",
    indexes=(("account_id", "updated_on"), ("account_id", "listing_map_id", "arrival_date")),
    fields=(
        _f("listing_map_id", "listingMapId", Kind.BIGINT),
        _f("channel_id", "channelId", Kind.BIGINT),
        _f("channel_name", "channelName", Kind.STR),
        _f("channel_reservation_id", "reservationId", Kind.STR),
        _f("status", "status", Kind.STR),
        _f("arrival_date", "arrivalDate", Kind.DATE),
        _f("departure_date", "departureDate", Kind.DATE),
        _f("nights", "nights", Kind.INT),
        _f("number_of_guests", "numberOfGuests", Kind.INT),
        _f("total_price", "totalPrice", Kind.DECIMAL),
        _f("currency", "currency", Kind.STR),
        _f("reservation_date", "reservationDate", Kind.DATETIME),
        _f("cancellation_date", "cancellationDate", Kind.DATETIME),
        _f("inserted_on", "insertedOn", Kind.DATETIME),
        _f("updated_on", "updatedOn", Kind.DATETIME),
        _f("latest_activity_on", "latestActivityOn", Kind.DATETIME),
    ),
)

CONVERSATIONS = StreamSpec(
    name="conversations",
    path="/conversations",
    table="conversations",
    pagination=Pagination.OFFSET,
    incremental=Incremental.FULL_LISTING,
    description="Guest conversations of the account (GET /v1/conversations).",
    indexes=(("account_id", "reservation_id"),),
    standalone=False,
    fields=(
        _f("listing_map_id", "listingMapId", Kind.BIGINT),
        _f("reservation_id", "reservationId", Kind.BIGINT),
        _f("type", "type", Kind.STR),
        _f("has_unread_messages", "hasUnreadMessages", Kind.BOOL),
        _f("message_sent_on", "messageSentOn", Kind.DATETIME),
        _f("message_received_on", "messageReceivedOn", Kind.DATETIME),
    ),
)

MESSAGES = StreamSpec(
    name="messages",
    path="/conversations/{parent_id}/messages",
    table="messages",
    pagination=Pagination.OFFSET,
    incremental=Incremental.CHANGED_PARENTS,
    parent=CONVERSATIONS,
    parent_change_fields=("messageSentOn", "messageReceivedOn"),
    parent_key_column="conversation_id",
    description="Every message of every conversation (GET /v1/conversations/{id}/messages); "
    "only conversations whose last sent/received time moved are refetched incrementally.",
    indexes=(("account_id", "conversation_id"),),
    fields=(
        _f("conversation_id", "conversationId", Kind.BIGINT),
        _f("reservation_id", "reservationId", Kind.BIGINT),
        _f("listing_map_id", "listingMapId", Kind.BIGINT),
        _f("is_incoming", "isIncoming", Kind.BOOL),
        _f("is_seen", "isSeen", Kind.BOOL),
        _f("communication_type", "communicationType", Kind.STR),
        _f("status", "status", Kind.STR),
        _f("sent_at", "date", Kind.DATETIME),
        _f("inserted_on", "insertedOn", Kind.DATETIME),
        _f("updated_on", "updatedOn", Kind.DATETIME),
    ),
)

# Every entity with a warehouse table, in the order their tables are created.
CATALOG: tuple[StreamSpec, ...] = (LISTINGS, RESERVATIONS, CONVERSATIONS, MESSAGES)

# The streams with an asset of their own (each syncs its parent too when it has one).
STREAMS: tuple[StreamSpec, ...] = tuple(s for s in CATALOG if s.standalone)


def by_name(name: str) -> StreamSpec:
    """A catalog entry by its name; KeyError names the known ones."""
    for spec in CATALOG:
        if spec.name == name:
            return spec
    raise KeyError(f"no stream {name!r} in the catalog; known: {[s.name for s in CATALOG]}")
