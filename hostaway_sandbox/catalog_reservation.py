"""Per-reservation endpoints: finance fields (`/financeField/{id}`, a list) and the rental
agreement (`/reservations/{id}/rentalAgreement`, a single object). Fields from the docs."""

from __future__ import annotations

from .catalog import Endpoint, Row, SeedContext, money

# (name, title, type, share of totalPrice or None)
_FINANCE = (
    ("baseRate", "Base rate", "price", 0.78),
    ("cleaningFee", "Cleaning fee", "fee", 0.10),
    ("hostChannelFee", "Host channel fee", "commission", 0.03),
    ("vat", "VAT", "tax", 0.09),
    ("totalPriceFromChannel", "Total price from channel", "price", 1.0),
)


def _finance_fields(ctx: SeedContext) -> list[Row]:
    res = ctx.parent or {}
    total = money(res.get("totalPrice"))
    return [
        {
            "id": ctx.id(k),
            "units": 1,
            "listingFeeSettingId": None,
            "type": kind,
            "name": name,
            "title": title,
            "alias": None,
            "value": round(total * share, 2),
            "isIncludedInTotalPrice": int(name != "totalPriceFromChannel"),
            "isOverriddenByUser": 0,
            "isMandatory": None,
            "isQuantitySelectable": 0,
            "isDeleted": 0,
            "total": round(total * share, 2),
        }
        for k, (name, title, kind, share) in enumerate(_FINANCE)
    ]


def _rental_agreement(ctx: SeedContext) -> list[Row]:
    res = ctx.parent or {}
    signed = ctx.rng.random() < 0.6
    return [
        {
            "id": ctx.id(0),
            "reservationId": res.get("id"),
            "listingMapId": res.get("listingMapId"),
            "status": "signed" if signed else "notSigned",
            "signedOn": res.get("reservationDate") if signed else None,
            "url": f"https://sandbox.hostaway.invalid/rental-agreement/{res.get('id')}",
        }
    ]


def endpoints() -> list[Endpoint]:
    """The per-reservation endpoints."""
    return [
        Endpoint(
            "reservation_finance_fields",
            "/v1/financeField/{id}",
            _finance_fields,
            parent="reservation",
        ),
        Endpoint(
            "reservation_rental_agreements",
            "/v1/reservations/{id}/rentalAgreement",
            _rental_agreement,
            parent="reservation",
            shape="object",
        ),
    ]
