"""Account-wide lists, seeded from the account's listings and reservations (fields from the
official docs' object files). Paged ones take limit/offset and answer with `count`."""

from __future__ import annotations

from collections.abc import Callable

from .catalog import Endpoint, Row, SeedContext, money
from .catalog_setup import custom_fields, reservation_custom_fields, seasonal_rules
from .clock import BASE_TS, DAY, fmt_date, fmt_dt

_STAMP = fmt_dt(BASE_TS - 200 * DAY)


def _policies(prefix: str, names: tuple[str, ...]) -> Callable[[SeedContext], list[Row]]:
    def seed(ctx: SeedContext) -> list[Row]:
        return [
            {
                "id": ctx.id(k),
                "accountId": ctx.account_id,
                "name": f"{prefix}{n}",
                "cancellationPolicyItem": [
                    {
                        "id": str(ctx.id(k) * 10 + j),
                        "cancellationPolicyId": str(ctx.id(k)),
                        "refundAmount": str(refund),
                        "refundType": "percentage",
                        "refundField": "totalPrice",
                        "timeDelta": str(-days * DAY),
                        "event": "arrival",
                    }
                    for j, (refund, days) in enumerate(((100, 14 + 7 * k), (50, 7)))
                ],
            }
            for k, n in enumerate(names)
        ]

    return seed


def _tax_settings(ctx: SeedContext) -> list[Row]:
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "taxType": t,
            "taxAppliedPer": "reservation",
            "amount": float(ctx.rng.randint(3, 15)),
            "amountType": "percent",
            "applyTo": '["baseRate","cleaningFee"]',
            "insertedOn": _STAMP,
            "updatedOn": _STAMP,
        }
        for k, t in enumerate(("roomTax", "cityTax")[: 1 + ctx.rng.randint(0, 1)])
    ]


def _groups(ctx: SeedContext) -> list[Row]:
    names = ("Admins", "Cleaners", "Owners")
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "name": n,
            "description": f"{n} group",
            "readListing": 1,
            "updateListing": int(k == 0),
            "readReservation": int(k != 1),
            "readCalendar": 1,
            "readTask": 1,
            "updateTask": int(k < 2),
        }
        for k, n in enumerate(names)
    ]


def _users(ctx: SeedContext) -> list[Row]:
    people = (("Andrew", "Peterson"), ("Maria", "Lopes"), ("Sam", "Okafor"))
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "userGroupId": ctx.id(k),
            "userGroupName": None,
            "email": f"{f.lower()}@agency.example.com",
            "firstName": f,
            "lastName": last,
            "phone": f"+1555{ctx.account_id}{k}",
            "timezone": "UTC",
            "preferredContactMethod": "email",
            "readListing": 1,
            "readReservation": 1,
        }
        for k, (f, last) in enumerate(people)
    ]


def _templates(ctx: SeedContext) -> list[Row]:
    msgs = (("greeting", "Hello {{guest_name}}"), ("checkin", "Check-in is at {{checkin_time}}"),
            ("review", "Thanks for staying at {{listing_name}}!"))  # fmt: skip
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "listingMapId": None,
            "channelId": None,
            "messageTemplateGroupId": None,
            "name": n,
            "description": f"{n} message",
            "message": m,
            "color": str(k + 1),
        }
        for k, (n, m) in enumerate(msgs)
    ]


def _webhooks(ctx: SeedContext) -> list[Row]:
    return [{"id": ctx.id(0), "isEnabled": 1, "url": f"https://hooks.example.com/{ctx.account_id}",
             "login": None, "password": None, "alertingEmailAddress": None}]  # fmt: skip


def _coupons(ctx: SeedContext) -> list[Row]:
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "userId": None,
            "isActive": int(k < 2),
            "isExpired": int(k == 2),
            "name": f"SAVE{5 * (k + 1)}",
            "type": "percentage",
            "amount": 5.0 * (k + 1),
            "minimumNights": 2,
            "checkInDateStart": "2025-01-01",
            "checkInDateEnd": "2026-12-31",
            "numberOfUsesInitial": 100,
            "numberOfUsesUsed": 7 * k,
            "validityDateStart": "2025-01-01",
            "validityDateEnd": None,
        }
        for k in range(3)
    ]


def _some(ctx: SeedContext, share: float) -> list[Row]:
    """A seeded, stable subset of the account's reservations."""
    return [r for r in ctx.reservations if ctx.rng.random() < share]


def _reservation_coupons(ctx: SeedContext) -> list[Row]:
    return [
        {
            "id": ctx.id(k),
            "userId": None,
            "listingMapId": r["listingMapId"],
            "reservationId": r["id"],
            "couponId": ctx.id(0),
            "couponName": "SAVE5",
            "reservationBasePrice": r["totalPrice"],
            "couponPrice": round(money(r["totalPrice"]) * 0.05, 2),
        }
        for k, r in enumerate(_some(ctx, 0.05))
    ]


def _charges(ctx: SeedContext) -> list[Row]:
    return [
        {
            "id": ctx.id(k),
            "listingMapId": r["listingMapId"],
            "reservationId": r["id"],
            "type": "charge",
            "title": "Accommodation payment",
            "currency": r["currency"],
            "paymentMethod": "credit_card_online",
            "amount": r["totalPrice"],
            "capturedAmount": r["totalPrice"] if r["isPaid"] else None,
            "status": "paid" if r["isPaid"] else "awaiting",
            "paymentProvider": "stripe",
            "scheduledDate": r["reservationDate"],
            "chargeDate": r["reservationDate"] if r["isPaid"] else None,
            "isManual": 0,
            "transactions": [],
        }
        for k, r in enumerate(_some(ctx, 0.3))
    ]


def _tasks(ctx: SeedContext) -> list[Row]:
    return [
        {
            "id": ctx.id(k),
            "listingMapId": r["listingMapId"],
            "channelId": r["channelId"],
            "reservationId": r["id"],
            "assigneeUserId": None,
            "title": "Turnover cleaning",
            "description": None,
            "canStartFrom": f"{r['departureDate']} 11:00:00",
            "shouldEndBy": f"{r['departureDate']} 15:00:00",
            "status": "completed" if r["departureDate"] < fmt_date(BASE_TS) else "pending",
            "cost": 45.0,
            "costCurrency": r["currency"],
            "priority": None,
        }
        for k, r in enumerate(_some(ctx, 0.4))
    ]


def _expenses(ctx: SeedContext) -> list[Row]:
    concepts = ("Cleaning supplies", "Plumber", "Linen", "Garden")
    return [
        {
            "id": ctx.id(k),
            "accountId": ctx.account_id,
            "ownerStatementId": None,
            "listingMapId": lst["id"],
            "reservationId": None,
            "expenseDate": fmt_date(BASE_TS - ctx.rng.randrange(DAY, 300 * DAY)),
            "concept": concepts[k % 4],
            "type": "expense",
            "amount": float(ctx.rng.randint(20, 400)),
            "isDeleted": 0,
            "ownerUserId": None,
            "insertedOn": _STAMP,
            "updatedOn": _STAMP,
            "categories": [],
            "attachments": [],
        }
        for k, lst in enumerate(ctx.listings * 2)
    ]


def _owner_statements(ctx: SeedContext) -> list[Row]:
    return [{"id": ctx.id(k), "statementName": f"Statement 2025-{m:02d}"}
            for k, m in enumerate(range(1, 13))]  # fmt: skip


def _reviews(ctx: SeedContext) -> list[Row]:
    done = [r for r in ctx.reservations if r["status"] in ("new", "modified")]
    names = {lst["id"]: lst["name"] for lst in ctx.listings}
    out: list[Row] = []
    for k, r in enumerate(x for x in done if ctx.rng.random() < 0.5):
        rating = ctx.rng.choice((6, 8, 8, 10, 10, 10))
        out.append(
            {"id": ctx.id(k), "accountId": ctx.account_id, "listingMapId": r["listingMapId"],
             "reservationId": r["id"], "channelId": r["channelId"], "type": "guest-to-host",
             "status": "published", "rating": rating, "externalReviewId": None,
             "publicReview": "Lovely stay, great host." if rating >= 8 else "It was fine.",
             "privateFeedback": None, "revieweeResponse": None, "isCancelled": 0,
             "reviewCategory": [{"category": "cleanliness", "rating": rating}],
             "departureDate": f"{r['departureDate']} 11:00:00",
             "arrivalDate": f"{r['arrivalDate']} 15:00:00",
             "listingName": names.get(r["listingMapId"]), "guestName": r["guestName"]}
        )  # fmt: skip
    return out


PAYMENT_METHODS = {"vcc": "VCC", "paypal": "PayPal", "venmo": "Venmo", "stripe": "Stripe",
                   "braintree": "Braintree", "other": "Other"}  # fmt: skip


def _payment_methods(ctx: SeedContext) -> list[Row]:
    return [{"code": k, "value": v} for k, v in PAYMENT_METHODS.items()]


def endpoints() -> list[Endpoint]:
    """The account-wide endpoints."""
    paged = {"paging": "offset"}
    airbnb = ("flexible", "moderate", "strict")
    return [
        Endpoint("cancellation_policies", "/v1/cancellationPolicies",
                 _policies("", ("Flexible", "Moderate", "Strict"))),
        Endpoint("cancellation_policies_airbnb", "/v1/cancellationPolicies/airbnb",
                 _policies("airbnb_", airbnb)),
        Endpoint("cancellation_policies_booking", "/v1/cancellationPolicies/booking",
                 _policies("booking_", ("nonRefundable", "flexible"))),
        Endpoint("cancellation_policies_marriott", "/v1/cancellationPolicies/marriott",
                 _policies("marriott_", ("flexible", "firm"))),
        Endpoint("cancellation_policies_vrbo", "/v1/cancellationPolicies/vrbo",
                 _policies("vrbo_", ("relaxed", "moderate", "firm", "strict"))),
        Endpoint("account_tax_settings", "/v1/accountTaxSettings", _tax_settings,
                 touch=("updatedOn",)),
        Endpoint("user_groups", "/v1/userGroups", _groups),
        Endpoint("users", "/v1/users", _users),
        Endpoint("message_templates", "/v1/messageTemplates", _templates),
        Endpoint("webhook_configurations", "/v1/webhooks/unifiedWebhooks", _webhooks),
        Endpoint("custom_fields", "/v1/customFields", custom_fields,
                 filters=(("objectType", "objectType"),), **paged),  # type: ignore[arg-type]
        Endpoint("reservation_custom_fields", "/v1/reservations/customFields",
                 reservation_custom_fields),  # deprecated in the docs; not mirrored
        Endpoint("coupons", "/v1/coupons", _coupons),
        Endpoint("reservation_coupons", "/v1/reservationCoupons", _reservation_coupons,
                 filters=(("reservationId", "reservationId"),)),
        Endpoint("guest_payment_charges", "/v1/guestPayments/charges", _charges,
                 filters=(("reservationId", "reservationId"), ("listingMapId", "listingMapId")),
                 **paged),  # type: ignore[arg-type]
        Endpoint("tasks", "/v1/tasks", _tasks,
                 filters=(("reservationId", "reservationId"), ("status", "status")),
                 **paged),  # type: ignore[arg-type]
        Endpoint("expenses", "/v1/expenses", _expenses, touch=("updatedOn",),
                 **paged),  # type: ignore[arg-type]
        Endpoint("reviews", "/v1/reviews", _reviews,
                 filters=(("listingMapIds", "listingMapId"), ("reservationId", "reservationId"),
                          ("type", "type"), ("statuses", "status")),
                 **paged),  # type: ignore[arg-type]
        Endpoint("payment_methods", "/v1/reservations/paymentMethods", _payment_methods,
                 shape="map", key=("code",)),
        Endpoint("owner_statements", "/v1/ownerStatements", _owner_statements),
        Endpoint("seasonal_rules", "/v1/seasonalRules", seasonal_rules,
                 filters=(("channelId", "channelId"),), **paged),  # type: ignore[arg-type]
    ]  # fmt: skip
