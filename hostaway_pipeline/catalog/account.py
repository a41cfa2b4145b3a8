"""Account-wide lists: money (finance) and operations. Each is read whole when due."""

from __future__ import annotations

from hostaway_pipeline.catalog.lists import whole_list
from hostaway_pipeline.catalog.spec import Cadence, Kind, Pagination, Shape, StreamSpec, f

FINANCE = "finance"
OPERATIONS = "operations"
W, R = Cadence.WARM, Cadence.REFERENCE
PAGED = Pagination.OFFSET
# Rows about one stay: a guest's erasure (by reservation) redacts them too.
BY_RESERVATION = (("reservation", "reservationId"),)

EXPENSES = whole_list(
    "expenses",
    "/expenses",
    f("listing_map_id", "listingMapId", Kind.BIGINT),
    f("expense_date", "expenseDate", Kind.DATE),
    f("amount", "amount", Kind.DECIMAL),
    f("type", "type", Kind.STR),
    f("is_deleted", "isDeleted", Kind.BOOL),
    f("updated_on", "updatedOn", Kind.DATETIME),
    area=FINANCE,
    cadence=W,
    pagination=PAGED,
    erase_by=BY_RESERVATION,  # the docs' object names the stay's guest (`guestName`)
    description="Expenses and extras of the account (GET /v1/expenses).",
)
OWNER_STATEMENTS = whole_list(
    "owner_statements",
    "/ownerStatements",
    f("statement_name", "statementName", Kind.STR),
    area=FINANCE,
    cadence=W,
    description="Owner statements (GET /v1/ownerStatements).",
)
GUEST_PAYMENT_CHARGES = whole_list(
    "guest_payment_charges",
    "/guestPayments/charges",
    f("reservation_id", "reservationId", Kind.BIGINT),
    f("listing_map_id", "listingMapId", Kind.BIGINT),
    f("status", "status", Kind.STR),
    f("amount", "amount", Kind.DECIMAL),
    f("currency", "currency", Kind.STR),
    f("charge_date", "chargeDate", Kind.DATETIME),
    area=FINANCE,
    cadence=W,
    pagination=PAGED,
    indexes=(("account_id", "reservation_id"),),
    erase_by=BY_RESERVATION,
    description="Guest payment charges (GET /v1/guestPayments/charges).",
)
COUPONS = whole_list(
    "coupons",
    "/coupons",
    f("name", "name", Kind.STR),
    f("type", "type", Kind.STR),
    f("amount", "amount", Kind.DECIMAL),
    f("is_active", "isActive", Kind.BOOL),
    area=FINANCE,
    cadence=W,
    description="Coupons of the account (GET /v1/coupons).",
)
RESERVATION_COUPONS = whole_list(
    "reservation_coupons",
    "/reservationCoupons",
    f("reservation_id", "reservationId", Kind.BIGINT),
    f("coupon_id", "couponId", Kind.BIGINT),
    f("coupon_price", "couponPrice", Kind.DECIMAL),
    area=FINANCE,
    cadence=W,
    indexes=(("account_id", "reservation_id"),),
    erase_by=BY_RESERVATION,
    description="Coupons applied to reservations (GET /v1/reservationCoupons).",
)
ACCOUNT_TAX_SETTINGS = whole_list(
    "account_tax_settings",
    "/accountTaxSettings",
    f("tax_type", "taxType", Kind.STR),
    f("amount", "amount", Kind.DECIMAL),
    f("amount_type", "amountType", Kind.STR),
    f("updated_on", "updatedOn", Kind.DATETIME),
    area=FINANCE,
    cadence=R,
    description="Account tax settings (GET /v1/accountTaxSettings).",
)
PAYMENT_METHODS = whole_list(
    "payment_methods",
    "/reservations/paymentMethods",
    f("code", "code", Kind.STR),
    f("value", "value", Kind.STR),
    area=FINANCE,
    cadence=R,
    shape=Shape.MAP,
    key=("code",),
    description="Payment methods (GET /v1/reservations/paymentMethods; a {code: label} map).",
)

TASKS = whole_list(
    "tasks",
    "/tasks",
    f("listing_map_id", "listingMapId", Kind.BIGINT),
    f("reservation_id", "reservationId", Kind.BIGINT),
    f("status", "status", Kind.STR),
    f("can_start_from", "canStartFrom", Kind.DATETIME),
    f("should_end_by", "shouldEndBy", Kind.DATETIME),
    f("cost", "cost", Kind.DECIMAL),
    area=OPERATIONS,
    cadence=W,
    pagination=PAGED,
    indexes=(("account_id", "listing_map_id"),),
    erase_by=BY_RESERVATION,
    description="Tasks (cleaning, maintenance) of the account (GET /v1/tasks).",
)
REVIEWS = whole_list(
    "reviews",
    "/reviews",
    f("listing_map_id", "listingMapId", Kind.BIGINT),
    f("reservation_id", "reservationId", Kind.BIGINT),
    f("type", "type", Kind.STR),
    f("status", "status", Kind.STR),
    f("rating", "rating", Kind.INT),
    area=OPERATIONS,
    cadence=W,
    pagination=PAGED,
    indexes=(("account_id", "listing_map_id"),),
    erase_by=BY_RESERVATION,
    description="Guest and host reviews (GET /v1/reviews).",
)
SEASONAL_RULES = whole_list(
    "seasonal_rules",
    "/seasonalRules",
    f("title", "title", Kind.STR),
    area=OPERATIONS,
    cadence=W,
    pagination=PAGED,
    description="Seasonal pricing rules (GET /v1/seasonalRules).",
)
MESSAGE_TEMPLATES = whole_list(
    "message_templates",
    "/messageTemplates",
    f("name", "name", Kind.STR),
    area=OPERATIONS,
    cadence=W,
    description="Message templates (GET /v1/messageTemplates).",
)
USERS = whole_list(
    "users",
    "/users",
    f("user_group_id", "userGroupId", Kind.BIGINT),  # names: payload only
    area=OPERATIONS,
    cadence=W,
    # Staff are people too: `guests erase --email` and retention redact their names, e-mails
    # and phones like a guest's.
    erase_by=(("email", "email"), ("email", "secondEmail")),
    description="Users of the account (GET /v1/users).",
)
USER_GROUPS = whole_list(
    "user_groups",
    "/userGroups",
    f("name", "name", Kind.STR),
    area=OPERATIONS,
    cadence=W,
    description="User groups (GET /v1/userGroups).",
)
WEBHOOK_CONFIGURATIONS = whole_list(
    "webhook_configurations",
    "/webhooks/unifiedWebhooks",
    f("is_enabled", "isEnabled", Kind.BOOL),
    area=OPERATIONS,
    cadence=W,
    redact=("password",),  # the receiver's Basic-auth secret
    erase_by=(("email", "alertingEmailAddress"),),  # a person's address, often
    description="Unified webhook configurations (GET /v1/webhooks/unifiedWebhooks); the "
    "password is never stored.",
)
CUSTOM_FIELDS = whole_list(
    "custom_fields",
    "/customFields",  # not the deprecated /reservations/customFields (reservation fields only)
    f("name", "name", Kind.STR),
    f("var_name", "varName", Kind.STR),
    f("type", "type", Kind.STR),
    f("object_type", "objectType", Kind.STR),
    area=OPERATIONS,
    cadence=R,
    pagination=PAGED,
    description="Custom fields of reservations, listings and tasks (GET /v1/customFields).",
)


def _policies(channel: str) -> StreamSpec:
    suffix = f"_{channel}" if channel else ""
    return whole_list(
        f"cancellation_policies{suffix}",
        f"/cancellationPolicies{'/' + channel if channel else ''}",
        f("name", "name", Kind.STR),
        area=OPERATIONS,
        cadence=R,
        description=f"Cancellation policies{' of ' + channel if channel else ''} "
        f"(GET /v1/cancellationPolicies{'/' + channel if channel else ''}).",
    )


CANCELLATION_POLICIES = tuple(_policies(c) for c in ("", "airbnb", "booking", "marriott", "vrbo"))

ENTITIES = (
    EXPENSES, OWNER_STATEMENTS, GUEST_PAYMENT_CHARGES, COUPONS, RESERVATION_COUPONS,
    ACCOUNT_TAX_SETTINGS, PAYMENT_METHODS, TASKS, REVIEWS, SEASONAL_RULES, MESSAGE_TEMPLATES,
    USERS, USER_GROUPS, WEBHOOK_CONFIGURATIONS, CUSTOM_FIELDS, *CANCELLATION_POLICIES,
)  # fmt: skip
