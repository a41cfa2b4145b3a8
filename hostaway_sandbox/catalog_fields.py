"""Notable top-level fields of each catalog endpoint's objects, with a column type, so the
pipeline can type a few columns per entity (everything else stays in `payload`).

Types: `int`, `float`, `text`, `date` (YYYY-MM-DD), `datetime` (YYYY-MM-DD HH:MM:SS, UTC),
`bool` (0/1 integers). Map endpoints (countries, ...) list `code` and, for string values,
`value`. A test checks that every field named here is present in the sandbox's seeded rows.
"""

from __future__ import annotations

FIELDS: dict[str, dict[str, str]] = {
    "countries": {"code": "text", "value": "text"},
    "currencies": {"code": "text", "value": "text"},
    "languages": {"code": "text", "value": "text"},
    "timezones": {"code": "text"},
    "payment_methods": {"code": "text", "value": "text"},
    "bed_types": {"id": "int", "name": "text"},
    "property_types": {"id": "int", "name": "text"},
    "amenities": {"id": "int", "name": "text"},
    "listing_calendar": {
        "id": "int", "date": "date", "isAvailable": "bool", "status": "text", "price": "float",
        "minimumStay": "int", "maximumStay": "int",
    },
    "listing_fee_settings": {
        "id": "int", "listingMapId": "int", "feeType": "text", "amount": "float",
        "amountType": "text", "updatedOn": "datetime",
    },
    "listing_pricing_settings": {"listingMapId": "int", "isAirbnbLOSActive": "bool"},
    "listing_units": {"id": "int", "name": "text", "unitNumber": "text"},
    "listing_agreements": {"id": "int", "listingMapId": "int"},
    "reservation_finance_fields": {
        "id": "int", "type": "text", "name": "text", "value": "float", "total": "float",
        "isIncludedInTotalPrice": "bool", "isDeleted": "bool",
    },
    "reservation_rental_agreements": {"id": "int", "reservationId": "int", "status": "text"},
    "cancellation_policies": {"id": "int", "name": "text"},
    "cancellation_policies_airbnb": {"id": "int", "name": "text"},
    "cancellation_policies_booking": {"id": "int", "name": "text"},
    "cancellation_policies_marriott": {"id": "int", "name": "text"},
    "cancellation_policies_vrbo": {"id": "int", "name": "text"},
    "account_tax_settings": {
        "id": "int", "taxType": "text", "amount": "float", "amountType": "text",
        "updatedOn": "datetime",
    },
    "user_groups": {"id": "int", "name": "text"},
    "users": {"id": "int", "userGroupId": "int"},  # names/emails are personal: payload only
    "message_templates": {"id": "int", "name": "text"},
    "webhook_configurations": {"id": "int", "isEnabled": "bool"},  # url/login: payload only
    "custom_fields": {
        "id": "int", "name": "text", "varName": "text", "type": "text", "objectType": "text",
    },
    "reservation_custom_fields": {"id": "int", "name": "text", "varName": "text", "type": "text"},
    "coupons": {
        "id": "int", "name": "text", "type": "text", "amount": "float", "isActive": "bool",
    },
    "reservation_coupons": {
        "id": "int", "reservationId": "int", "couponId": "int", "couponPrice": "float",
    },
    "guest_payment_charges": {
        "id": "int", "reservationId": "int", "listingMapId": "int", "status": "text",
        "amount": "float", "currency": "text", "chargeDate": "datetime",
    },
    "tasks": {
        "id": "int", "listingMapId": "int", "reservationId": "int", "status": "text",
        "canStartFrom": "datetime", "shouldEndBy": "datetime", "cost": "float",
    },
    "reviews": {
        "id": "int", "listingMapId": "int", "reservationId": "int", "type": "text",
        "status": "text", "rating": "int",
    },
    "expenses": {
        "id": "int", "listingMapId": "int", "expenseDate": "date", "amount": "float",
        "type": "text", "isDeleted": "bool", "updatedOn": "datetime",
    },
    "owner_statements": {"id": "int", "statementName": "text"},
    "seasonal_rules": {"id": "int", "title": "text"},
}  # fmt: skip
