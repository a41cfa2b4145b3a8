"""The four entities the mirror started with: listings, reservations, conversations, messages."""

from __future__ import annotations

from hostaway_pipeline.catalog.spec import ChildMark, Incremental, Kind, Pagination, StreamSpec, f

LISTINGS = StreamSpec(
    name="listings",
    core=True,
    path="/listings",
    table="listings",
    pagination=Pagination.OFFSET,
    incremental=Incremental.LATEST_ACTIVITY,
    cursor_field="latestActivityOn",
    description="Hostaway listings of the account (GET /v1/listings), one row per listing.",
    fields=(
        f("name", "name", Kind.STR),
        f("internal_listing_name", "internalListingName", Kind.STR),
        f("city", "city", Kind.STR),
        f("country", "country", Kind.STR),
        f("country_code", "countryCode", Kind.STR),
        f("person_capacity", "personCapacity", Kind.INT),
        f("bedrooms_number", "bedroomsNumber", Kind.INT),
        f("bathrooms_number", "bathroomsNumber", Kind.DECIMAL),
        f("price", "price", Kind.DECIMAL),
        f("currency_code", "currencyCode", Kind.STR),
        f("time_zone_name", "timeZoneName", Kind.STR),
        f("special_status", "specialStatus", Kind.STR),
        f("latest_activity_on", "latestActivityOn", Kind.DATETIME),
    ),
)

RESERVATIONS = StreamSpec(
    name="reservations",
    core=True,
    path="/reservations",
    table="reservations",
    pagination=Pagination.KEYSET,
    erase_by=(("reservation", "id"), ("email", "guestEmail")),
    # Not NEWEST_FIRST on updatedOn: guest messages move a reservation's latestActivityOn (and so
    # its payload) without touching updatedOn, and an updatedOn cursor would never see them.
    incremental=Incremental.LATEST_ACTIVITY,
    cursor_field="latestActivityOn",
    description="Hostaway reservations of the account (GET /v1/reservations), keyset-paged.",
    indexes=(("account_id", "updated_on"), ("account_id", "listing_map_id", "arrival_date")),
    fields=(
        f("listing_map_id", "listingMapId", Kind.BIGINT),
        f("channel_id", "channelId", Kind.BIGINT),
        f("channel_name", "channelName", Kind.STR),
        f("channel_reservation_id", "reservationId", Kind.STR),
        f("status", "status", Kind.STR),
        f("arrival_date", "arrivalDate", Kind.DATE),
        f("departure_date", "departureDate", Kind.DATE),
        f("nights", "nights", Kind.INT),
        f("number_of_guests", "numberOfGuests", Kind.INT),
        f("total_price", "totalPrice", Kind.DECIMAL),
        f("currency", "currency", Kind.STR),
        f("reservation_date", "reservationDate", Kind.DATETIME),
        f("cancellation_date", "cancellationDate", Kind.DATETIME),
        f("inserted_on", "insertedOn", Kind.DATETIME),
        f("updated_on", "updatedOn", Kind.DATETIME),
        f("latest_activity_on", "latestActivityOn", Kind.DATETIME),
    ),
)

CONVERSATIONS = StreamSpec(
    name="conversations",
    core=True,
    path="/conversations",
    table="conversations",
    erase_by=(("conversation", "id"), ("reservation", "reservationId"), ("email", "guestEmail")),
    pagination=Pagination.OFFSET,
    incremental=Incremental.FULL_LISTING,
    description="Guest conversations of the account (GET /v1/conversations).",
    indexes=(("account_id", "reservation_id"),),
    standalone=False,
    fields=(
        f("listing_map_id", "listingMapId", Kind.BIGINT),
        f("reservation_id", "reservationId", Kind.BIGINT),
        f("type", "type", Kind.STR),
        f("has_unread_messages", "hasUnreadMessages", Kind.BOOL),
        f("message_sent_on", "messageSentOn", Kind.DATETIME),
        f("message_received_on", "messageReceivedOn", Kind.DATETIME),
    ),
)

MESSAGES = StreamSpec(
    name="messages",
    core=True,
    path="/conversations/{parent_id}/messages",
    table="messages",
    erase_by=(("conversation", "conversationId"), ("reservation", "reservationId")),
    pagination=Pagination.OFFSET,
    incremental=Incremental.CHANGED_PARENTS,
    parent=CONVERSATIONS,
    parent_change_fields=("messageSentOn", "messageReceivedOn"),
    parent_key_column="conversation_id",
    child_marks=(
        ChildMark("messageReceivedOn", "sent_at", "is_incoming", True),
        ChildMark("messageSentOn", "sent_at", "is_incoming", False),
    ),
    webhook_object="conversationMessage",
    description="Every message of every conversation (GET /v1/conversations/{id}/messages); "
    "only conversations whose last sent/received time moved are refetched incrementally.",
    indexes=(("account_id", "conversation_id"),),
    fields=(
        f("conversation_id", "conversationId", Kind.BIGINT),
        f("reservation_id", "reservationId", Kind.BIGINT),
        f("listing_map_id", "listingMapId", Kind.BIGINT),
        f("is_incoming", "isIncoming", Kind.BOOL),
        f("is_seen", "isSeen", Kind.BOOL),
        f("communication_type", "communicationType", Kind.STR),
        f("status", "status", Kind.STR),
        f("sent_at", "date", Kind.DATETIME),
        f("inserted_on", "insertedOn", Kind.DATETIME),
        f("updated_on", "updatedOn", Kind.DATETIME),
    ),
)
