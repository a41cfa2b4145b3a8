"""Each catalog entity checked against its file in Hostaway's official docs (`Hostaway/api`,
`source/includes/`): the paging and query params the docs give, what the object file says of the
typed fields, and what the sandbox assumes where the docs are silent. docs/HOSTAWAY_ENDPOINTS.md
holds the table (a test keeps the two equal, and checks the pipeline's paging and the params it
sends against these facts).

python -m hostaway_pipeline.catalog.documented     # prints the table
"""

from __future__ import annotations

from dataclasses import dataclass

from hostaway_pipeline import catalog
from hostaway_pipeline.catalog.spec import Incremental, Pagination, StreamSpec

OFFSET, AFTER_ID, UNPAGED = "limit/offset", "afterId", "none documented"


@dataclass(frozen=True)
class Documented:
    """What an entity's doc files say (`files` without the `.md`)."""

    files: tuple[str, ...]
    paging: str  # OFFSET, AFTER_ID or UNPAGED
    params: tuple[str, ...] = ()  # the documented query params
    obj: str = "typed fields documented"
    assumes: str = "-"  # the sandbox's answer where the docs are silent


def _d(files: str, paging: str, params: str = "", obj: str = "", assumes: str = "-") -> Documented:
    return Documented(
        tuple(files.split()), paging, tuple(params.split()),
        obj or "typed fields documented", assumes,
    )  # fmt: skip


_LO = "limit offset"
_POLICY = "items' numbers are strings in the example; per account or global: unsaid (per account)"
_GLOBAL = "no paging; the same for every account (stored once)"
DOCUMENTED: dict[str, Documented] = {
    "listings": _d(
        "_listing_retrieveListingsList _listing_listingObject", OFFSET,
        f"{_LO} sortOrder city match country contactName propertyTypeId includeResources "
        "availabilityDateStart availabilityDateEnd availabilityGuestNumber userId "
        "latestActivityStart latestActivityEnd isBookingEngineActive",
        assumes="max limit unsaid: the sandbox caps pages at 500",
    ),
    "reservations": _d(
        "_reservation_retrieveReservationsList _reservation_reservationObject", AFTER_ID,
        "limit offset afterId sortOrder channelId listingId assigneeUserId match "
        "arrivalStartDate arrivalEndDate departureStartDate departureEndDate "
        "hasUnreadConversationMessages isStarred isArchived isPinned customerUserId "
        "includeResources includeCancellationPolicy latestActivityStart latestActivityEnd "
        "reservationAgreement guestEmail",
        obj="`insertedOn` is not in the object table (observed in live payloads)",
        assumes="default order updatedOn DESC, id DESC; offset ignored once afterId is set",
    ),
    "conversations": _d(
        "_conversation_retrieveConversationsList _conversation_conversationObject", OFFSET,
        f"{_LO} reservationId includeResources",
        assumes="order unsaid: a stable shuffled order, not by id",
    ),
    "messages": _d(
        "_conversation_retrieveConversationsMessagesList "
        "_conversation_conversationMessageObject", OFFSET,
        f"{_LO} includeScheduledMessages", assumes="order unsaid: newest first (date, id)",
    ),
    "listing_calendar": _d(
        "_calendar_retrieveCalendar _calendar_calendarDayObject", UNPAGED,
        "startDate endDate includeResources",
        assumes="window defaults unsaid: today to +30 d; > 1098 d or reversed: 400",
    ),
    "listing_fee_settings": _d(
        "_listing_feeSettings_list", UNPAGED, assumes="a listing without fees: empty list"
    ),
    "listing_pricing_settings": _d(
        "_listing_listingPricingSettings_get", UNPAGED,
        obj="the example has no `id` though the table lists it (keyed by listing)",
    ),
    "listing_units": _d(
        "_listingUnit_retrievelistingUnits _listingUnit_listingUnitObject", UNPAGED,
        obj="`listingMapId` is the path's", assumes="single-unit listings: empty list",
    ),
    "listing_agreements": _d(
        "_listing_listingAgreement_get", UNPAGED, assumes="no agreement: empty list"
    ),
    "reservation_finance_fields": _d(
        "_finance_field", UNPAGED, obj="`reservationId` is the path's",
        assumes="fields: baseRate, cleaningFee, hostChannelFee, vat, totalPriceFromChannel",
    ),
    "reservation_rental_agreements": _d(
        "_reservation_retrieveRentalAgreement", UNPAGED, obj="object undocumented (path only)",
        assumes="`{id, reservationId, listingMapId, status, signedOn, url}`",
    ),
    "expenses": _d(
        "_expense_retrieveList _expense_object", OFFSET, f"{_LO} format",
        assumes="order unsaid: id order",
    ),
    "owner_statements": _d(
        "_ownerStatement_retrieveList", UNPAGED, obj="list items carry only id, statementName"
    ),
    "guest_payment_charges": _d(
        "_guestPayment_retrieveChargeList _guestPayment_chargeObject", OFFSET,
        f"reservationId listingMapId paymentProvider paymentMethod {_LO}",
        assumes="order unsaid: id order",
    ),
    "coupons": _d("_coupon_retrieveCouponsList _coupon_couponObject", UNPAGED),
    "reservation_coupons": _d(
        "_coupon_retrieveReservationCouponsList _coupon_reservationCouponObject", UNPAGED,
        assumes="params unsaid: the sandbox filters on reservationId",
    ),
    "account_tax_settings": _d("_taxSettings_account", UNPAGED, obj="`applyTo` is JSON text"),
    "payment_methods": _d(
        "_reservationPaymentMethod_retrieveList", UNPAGED,
        assumes="a `{code: label}` map; per account or global: unsaid (per account)",
    ),
    "tasks": _d(
        "_task_retrieveList _task_object", OFFSET,
        f"{_LO} channelId canStartFromEvent shouldEndByEvent reservationId match status "
        "canStartFromStart canStartFromEnd shouldEndByStart shouldEndByEnd",
        assumes="order unsaid: id order",
    ),
    "reviews": _d(
        "_review_retrieveList _review_reviewObject", OFFSET,
        f"listingMapIds {_LO} sortBy sortOrder reservationId type statuses "
        "departureDateStart departureDateEnd",
        obj="the table spells `raiting`, the examples `rating` (typed from `rating`)",
        assumes="the example's `offset: null`: the sandbox sends the full envelope",
    ),
    "seasonal_rules": _d(
        "_seasonalRule_retrieveList _seasonalRule_object", OFFSET, f"{_LO} channelId",
        assumes="the example has no `count`: the sandbox sends the full envelope",
    ),
    "message_templates": _d(
        "_messageTemplate_retrieveMessageTemplateList _messageTemplate_messageTemplateObject",
        UNPAGED, "messageTemplateGroupId channelId listingMapId reservationId",
    ),
    "users": _d("_user_retrieveList", UNPAGED, obj="names, e-mails, phones: personal data"),
    "user_groups": _d("_group_retrieveList", UNPAGED),
    "webhook_configurations": _d(
        "_webhook_unifiedWebhookList _webhook_unifiedWebhookObject", UNPAGED,
        obj="`password` is a secret (never stored)",
    ),
    "custom_fields": _d(
        "_newCustomField_customFieldList _newCustomField_customFieldObject", OFFSET,
        f"{_LO} objectType",
        obj="reservation, listing and task fields (the deprecated "
        "`/reservations/customFields`: reservation only)",
        assumes="the envelope is not shown: the full paged one",
    ),
    **{
        f"cancellation_policies{suffix}": _d(
            f"_cancellationPolicy_retrieveCancellationPolicyList{doc}"
            + ("" if suffix else " _cancellationPolicy_cancellationPolicyObject"),
            UNPAGED, assumes=_POLICY,
        )
        for suffix, doc in (("", ""), ("_airbnb", "Airbnb"), ("_booking", "Booking"),
                            ("_marriott", "Marriott"), ("_vrbo", "VRBO"))
    },
    "countries": _d("_commonInfo_countries", UNPAGED, assumes=_GLOBAL),
    "currencies": _d("_commonInfo_currencies", UNPAGED, assumes=_GLOBAL),
    "languages": _d("_commonInfo_languages", UNPAGED, assumes=_GLOBAL),
    "timezones": _d("_commonInfo_timezones", UNPAGED, obj="values are objects: payload only",
                    assumes=_GLOBAL),
    "bed_types": _d("_bedType_retrieveBedTypesList _bedType_bedTypeObject", UNPAGED,
                    assumes=_GLOBAL),
    "property_types": _d(
        "_propertyType_retrievePropertyTypeList _propertyType_propertyTypeObject", UNPAGED,
        assumes=_GLOBAL,
    ),
    "amenities": _d("_amenity_retrieveAmenitiesList _amenity_amenityObject", UNPAGED,
                    assumes=_GLOBAL),
}  # fmt: skip

_PAGING = {Pagination.OFFSET: OFFSET, Pagination.KEYSET: AFTER_ID, Pagination.NONE: UNPAGED}


def pipeline_paging(spec: StreamSpec) -> str:
    """The paging the pipeline uses, in the docs' words."""
    return _PAGING[spec.pagination]


def sent_params(spec: StreamSpec) -> tuple[str, ...]:
    """Every query param the pipeline may send for the entity (all of them must be documented)."""
    sent = {
        Pagination.OFFSET: ["limit", "offset"],
        Pagination.KEYSET: ["limit", "afterId"],
        Pagination.NONE: [],
    }[spec.pagination]
    if spec.window is not None:
        sent += [spec.window.start_param, spec.window.end_param]
    if spec.incremental is Incremental.LATEST_ACTIVITY:
        sent.append("latestActivityStart")
    return tuple(sent + [k for k, _ in spec.params])


def _row(spec: StreamSpec) -> str:
    d = DOCUMENTED[spec.name]
    files = " ".join(f"`{f}`" for f in d.files)
    paging = (
        d.paging if d.paging == pipeline_paging(spec) else f"{d.paging} (we: {spec.pagination})"
    )
    documented = ", ".join(f"`{p}`" for p in d.params) or "none documented"
    sent = ", ".join(f"`{p}`" for p in sent_params(spec)) or "-"
    return (
        f"| {spec.name} | `{spec.path}` | {files} | {paging} | {documented} | {sent} | "
        f"{d.obj} | {d.assumes} |"
    )


def markdown_table() -> str:
    head = (
        "| entity | path (`/v1`) | doc files | paging | documented params | sent | object | "
        "sandbox assumes where the docs are silent |\n|---|---|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(_row(s) for s in catalog.CATALOG) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
