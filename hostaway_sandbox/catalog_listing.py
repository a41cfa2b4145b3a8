"""Per-listing endpoints: the calendar (one row per day, `startDate`/`endDate` window), fee
settings, pricing settings and the listing agreement (lists, from the official docs)."""

from __future__ import annotations

from datetime import date

from .catalog import Endpoint, Row, SeedContext, money
from .clock import BASE_TS, DAY, fmt_dt

_EPOCH = date(2000, 1, 1)
# What a calendar day embeds of its booking (the docs' example embeds the whole reservation,
# guest name, e-mail and phone included).
_RES_FIELDS = (
    "id", "listingMapId", "channelId", "channelName", "reservationId", "arrivalDate",
    "departureDate", "nights", "status", "totalPrice", "currency", "guestName",
    "guestFirstName", "guestLastName", "guestEmail", "phone",
)  # fmt: skip
FEE_TYPES = ("parkingFee", "petFee", "resortFee", "lateCheckoutFee", "towelChangeFee")


_DEAD = ("cancelled", "declined", "expired", "inquiryDenied")


def _bookings(ctx: SeedContext, listing_id: int) -> dict[str, Row]:
    """{date: reservation} of one listing's live bookings, cached until reservations change."""
    acct = ctx.account
    if acct is None:
        return {}
    cached = acct.booking_cache.get(listing_id)
    if cached is not None and cached[0] == acct.res_version:
        return cached[1]
    found: dict[str, Row] = {}
    for r in sorted(acct.reservations.values(), key=lambda x: x["id"], reverse=True):
        if r.get("listingMapId") != listing_id or r["status"] in _DEAD:
            continue
        day, end = date.fromisoformat(r["arrivalDate"]), r["departureDate"]
        while day.isoformat() < end:
            found[day.isoformat()] = r  # the lowest id wins an overlap
            day = day.fromordinal(day.toordinal() + 1)
    acct.booking_cache[listing_id] = (acct.res_version, found)
    return found


def _calendar_day(ctx: SeedContext, day: str) -> Row:
    listing = ctx.parent or {}
    rng = ctx.rng
    booked = _bookings(ctx, int(listing.get("id", 0))).get(day)
    weekend = date.fromisoformat(day).weekday() >= 4
    price = round(money(listing.get("price", 100.0), 100.0) * (1.2 if weekend else 1.0), 2)
    blocked = booked is None and rng.random() < 0.08
    status = "reserved" if booked else ("blocked" if blocked else "available")
    return {
        "id": int(listing.get("id", 0)) * 100_000 + (date.fromisoformat(day) - _EPOCH).days,
        "date": day,
        "isAvailable": int(status == "available"),
        "isProcessed": 1,
        "status": status,
        "price": price,
        "minimumStay": rng.choice((1, 1, 2, 3)),
        "maximumStay": 1125,
        "closedOnArrival": None,
        "closedOnDeparture": None,
        "note": "Owner maintenance" if blocked else None,
        "countAvailableUnits": None,
        "availableUnitsToSell": None,
        "countPendingUnits": None,
        "countBlockingReservations": None,
        "countBlockedUnits": None,
        "desiredUnitsToSell": None,
        "reservations": [{k: booked[k] for k in _RES_FIELDS}] if booked else [],
    }


def _fee_settings(ctx: SeedContext) -> list[Row]:
    lid = (ctx.parent or {})["id"]
    rng = ctx.rng
    stamp = fmt_dt(BASE_TS - rng.randrange(DAY, 400 * DAY))
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "listingMapId": lid,
            "feeType": fee,
            "feeTitle": None,
            "feeAppliedPer": rng.choice(("reservation", "person", "night", "person_per_night")),
            "amount": float(rng.randint(5, 80)),
            "amountType": rng.choice(("flat", "flat", "percent")),
            "isMandatory": rng.choice((None, 0, 1)),
            "isQuantitySelectable": rng.choice((0, 1)),
            "insertedOn": stamp,
            "updatedOn": stamp,
        }
        for k, fee in enumerate(rng.sample(FEE_TYPES, rng.randint(0, 3)))
    ]


def _pricing_settings(ctx: SeedContext) -> list[Row]:
    rng = ctx.rng
    lid = (ctx.parent or {})["id"]
    flags = {
        f"is{c}LOSActive": rng.choice((0, 1)) for c in ("Airbnb", "Booking", "Vrbo", "Expedia")
    }
    return [{"id": ctx.id(0), "listingMapId": lid, **flags}]


def _agreement(ctx: SeedContext) -> list[Row]:
    lid = (ctx.parent or {})["id"]
    if ctx.rng.random() < 0.3:
        return []
    text = "I, {{guest_name}}, agree to the house rules of {{listing_name}}."
    return [{"id": ctx.id(0), "text": text, "listingMapId": lid}]


def _units(ctx: SeedContext) -> list[Row]:
    lid = (ctx.parent or {})["id"]
    count = ctx.rng.choice((0, 0, 0, 2, 3))
    return [
        {
            "id": ctx.id(k),
            "name": f"Unit {k + 1}",
            "ground": str(1 + k // 2),
            "unitNumber": f"{100 + k}",
            "listingMapIdUnit": str(lid),
        }
        for k in range(count)
    ]


def endpoints() -> list[Endpoint]:
    """The per-listing endpoints."""
    return [
        Endpoint(
            "listing_calendar",
            "/v1/listings/{id}/calendar",
            day_seed=_calendar_day,
            parent="listing",
            key=("date",),
        ),
        Endpoint(
            "listing_fee_settings",
            "/v1/listingFeeSettings/{id}",
            _fee_settings,
            parent="listing",
            touch=("updatedOn",),
        ),
        Endpoint(
            "listing_pricing_settings",
            "/v1/listing/pricingSettings/{id}",
            _pricing_settings,
            parent="listing",
        ),
        Endpoint("listing_units", "/v1/listingUnits/{id}", _units, parent="listing"),
        Endpoint("listing_agreements", "/v1/listingAgreement/{id}", _agreement, parent="listing"),
    ]
