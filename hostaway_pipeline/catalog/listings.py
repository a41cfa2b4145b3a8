"""Per-listing endpoints: read for every stored listing (the listings asset lists them)."""

from __future__ import annotations

from hostaway_pipeline.catalog.core import LISTINGS
from hostaway_pipeline.catalog.spec import (
    Cadence,
    Incremental,
    Kind,
    Pagination,
    StreamSpec,
    Window,
    f,
)

AREA = "listing_details"
_LISTING = f("listing_map_id", "listingMapId", Kind.BIGINT)  # filled from the path, not the body


def _child(name: str, path: str, *fields_: object, **kw: object) -> StreamSpec:
    return StreamSpec(
        name=name,
        path=path,
        table=name,
        pagination=Pagination.NONE,
        parent=LISTINGS,
        parent_key_column="listing_map_id",
        area=AREA,
        indexes=(("account_id", "listing_map_id"),),
        fields=(_LISTING, *fields_),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


LISTING_CALENDAR = _child(
    "listing_calendar",
    "/listings/{parent_id}/calendar",
    f("date", "date", Kind.DATE),
    f("is_available", "isAvailable", Kind.BOOL),
    f("status", "status", Kind.STR),
    f("price", "price", Kind.DECIMAL),
    f("minimum_stay", "minimumStay", Kind.INT),
    f("maximum_stay", "maximumStay", Kind.INT),
    # Availability and nightly prices move without the listing changing: every listing's window
    # is read each time the entity is due (daily), 1 request per listing.
    incremental=Incremental.FULL_LISTING,
    cadence=Cadence.WARM,
    key=("listing_map_id", "date"),
    window=Window("startDate", "endDate"),
    soft_delete=False,  # days that left the window are history, not deletions
    # A day embeds its booking's guest (name, e-mail, phone): found by the booking's id, or by
    # the guest's e-mail when the reservation itself is not stored (purged, or not selected).
    erase_by=(("reservation", "reservations[].id"), ("email", "reservations[].guestEmail")),
    description="Calendar days of every listing (GET /v1/listings/{id}/calendar): availability, "
    "status and nightly price, from HOSTAWAY_CALENDAR_DAYS_BACK ago to _AHEAD ahead; one row "
    "per listing and date.",
)
LISTING_FEE_SETTINGS = _child(
    "listing_fee_settings",
    "/listingFeeSettings/{parent_id}",
    f("fee_type", "feeType", Kind.STR),
    f("amount", "amount", Kind.DECIMAL),
    f("amount_type", "amountType", Kind.STR),
    f("updated_on", "updatedOn", Kind.DATETIME),
    incremental=Incremental.CHANGED_PARENTS,
    cadence=Cadence.WARM,
    description="Fees of every listing (GET /v1/listingFeeSettings/{id}).",
)
LISTING_PRICING_SETTINGS = _child(
    "listing_pricing_settings",
    "/listing/pricingSettings/{parent_id}",
    f("is_airbnb_los_active", "isAirbnbLOSActive", Kind.BOOL),
    incremental=Incremental.CHANGED_PARENTS,
    cadence=Cadence.WARM,
    key=("listing_map_id",),  # the documented example has no `id`: one row per listing
    description="Pricing settings of every listing (GET /v1/listing/pricingSettings/{id}).",
)
LISTING_UNITS = _child(
    "listing_units",
    "/listingUnits/{parent_id}",
    f("name", "name", Kind.STR),
    f("unit_number", "unitNumber", Kind.STR),
    incremental=Incremental.CHANGED_PARENTS,
    cadence=Cadence.REFERENCE,
    description="Units of multi-unit listings (GET /v1/listingUnits/{id}).",
)
LISTING_AGREEMENTS = _child(
    "listing_agreements",
    "/listingAgreement/{parent_id}",
    incremental=Incremental.CHANGED_PARENTS,
    cadence=Cadence.REFERENCE,
    description="Rental agreement template of every listing (GET /v1/listingAgreement/{id}).",
)

ENTITIES = (
    LISTING_CALENDAR,
    LISTING_FEE_SETTINGS,
    LISTING_PRICING_SETTINGS,
    LISTING_UNITS,
    LISTING_AGREEMENTS,
)
