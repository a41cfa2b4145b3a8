"""The account's set-up lists (fields from the official docs' object files): custom fields
(`/v1/customFields`, paged, and the deprecated reservation-only `/v1/reservations/customFields`)
and seasonal rules (`/v1/seasonalRules`, paged)."""

from __future__ import annotations

from .catalog import Row, SeedContext

# Custom fields by object type (`/v1/customFields`, docs: `_newCustomField_*`): 7 reservation,
# 5 listing and 3 task fields per account, so a page of 100 holds them but a small one does not.
_CUSTOM_FIELDS = {
    "reservation": (("Door code", "text"), ("Early check-in", "dropdown"),
                    ("Parking spot", "text"), ("Arrival time", "text"), ("Pets", "number"),
                    ("Special requests", "textarea"), ("Deposit note", "text")),
    "listing": (("Wifi name", "text"), ("Wifi password", "text"), ("Key box", "text"),
                ("Owner note", "textarea"), ("Floor", "number")),
    "task": (("Checklist", "textarea"), ("Supplies", "text"), ("Access code", "text")),
}  # fmt: skip


def custom_fields(ctx: SeedContext) -> list[Row]:
    rows: list[Row] = []
    for object_type, fields in _CUSTOM_FIELDS.items():
        for n, t in fields:
            k = len(rows)
            rows.append(
                {
                    "id": ctx.id(k),
                    "accountId": ctx.account_id,
                    "name": n,
                    "varName": f"{object_type}_{k}",
                    "possibleValues": '["yes","no"]' if t == "dropdown" else None,
                    "type": t,
                    "objectType": object_type,
                    "isPublic": 1,
                    "sortOrder": k + 1,
                }
            )
    return rows


def reservation_custom_fields(ctx: SeedContext) -> list[Row]:
    """The deprecated `/v1/reservations/customFields`: reservation fields only, unpaged."""
    return [r for r in custom_fields(ctx) if r["objectType"] == "reservation"]


def seasonal_rules(ctx: SeedContext) -> list[Row]:
    rules = (("Summer", 3), ("Christmas", 5), ("Weekends", 2))
    nights = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
    return [
        {
            "id": ctx.id(k),
            "title": t,
            "channelId": 2000 if t == "Weekends" else None,
            "closedForCheckin": "[]",
            "closedForCheckout": "[]",
            "color": "#33aa55",
            **{f"minNights{d}": m for d in nights},
            **{f"maxNights{d}": None for d in nights},
            "minNightsUnspecified": None,
            "maxNightsUnspecified": None,
            "pricingRules": None,
        }
        for k, (t, m) in enumerate(rules)
    ]
