"""Per-reservation endpoints: read for reservations that changed (the money of each stay)."""

from __future__ import annotations

from hostaway_pipeline.catalog.core import RESERVATIONS
from hostaway_pipeline.catalog.spec import (
    Cadence,
    Incremental,
    Kind,
    Pagination,
    Shape,
    StreamSpec,
    f,
)

AREA = "reservation_details"
_RESERVATION = f("reservation_id", "reservationId", Kind.BIGINT)  # filled from the path

RESERVATION_FINANCE_FIELDS = StreamSpec(
    name="reservation_finance_fields",
    path="/financeField/{parent_id}",
    table="reservation_finance_fields",
    pagination=Pagination.NONE,
    parent=RESERVATIONS,
    parent_key_column="reservation_id",
    # A reservation's money changes with the reservation (its row changes): only changed
    # reservations are asked, so a quiet incremental costs no request.
    incremental=Incremental.CHANGED_PARENTS,
    cadence=Cadence.HOT,
    area=AREA,
    erase_by=(("reservation", "reservationId"),),
    indexes=(("account_id", "reservation_id"),),
    description="Finance fields of every reservation (GET /v1/financeField/{id}): base rate, "
    "cleaning fee, channel fee, taxes, one row per field.",
    fields=(
        _RESERVATION,
        f("type", "type", Kind.STR),
        f("name", "name", Kind.STR),
        f("value", "value", Kind.DECIMAL),
        f("total", "total", Kind.DECIMAL),
        f("is_included_in_total_price", "isIncludedInTotalPrice", Kind.BOOL),
        f("is_deleted", "isDeleted", Kind.BOOL),
    ),
)
RESERVATION_RENTAL_AGREEMENTS = StreamSpec(
    name="reservation_rental_agreements",
    path="/reservations/{parent_id}/rentalAgreement",
    table="reservation_rental_agreements",
    pagination=Pagination.NONE,
    shape=Shape.OBJECT,
    parent=RESERVATIONS,
    parent_key_column="reservation_id",
    incremental=Incremental.CHANGED_PARENTS,
    cadence=Cadence.WARM,
    area=AREA,
    erase_by=(("reservation", "reservationId"),),
    indexes=(("account_id", "reservation_id"),),
    description="The rental agreement of every reservation "
    "(GET /v1/reservations/{id}/rentalAgreement; object fields undocumented).",
    fields=(_RESERVATION, f("status", "status", Kind.STR)),
)

ENTITIES = (RESERVATION_FINANCE_FIELDS, RESERVATION_RENTAL_AGREEMENTS)
