"""Typing payload values: what Hostaway sends is typed, anything else is kept only in the payload."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hostaway_pipeline.catalog import RESERVATIONS
from hostaway_pipeline.sync.convert import (
    Unconvertible,
    cursor_value,
    to_bool,
    to_datetime,
    typed_row,
)


def test_hostaway_datetimes_are_read_as_utc() -> None:
    assert to_datetime("2026-03-01 10:20:30") == datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)


def test_other_datetime_formats_are_normalised_to_utc() -> None:
    assert to_datetime("2026-03-01T12:20:30+02:00") == datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)
    assert to_datetime("2026-03-01T10:20:30Z") == datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["0000-00-00 00:00:00", "yesterday", "", 12, None])
def test_unreadable_datetimes_raise(value: object) -> None:
    with pytest.raises(Unconvertible):
        to_datetime(value)


def test_booleans_come_as_zero_or_one() -> None:
    assert to_bool(1) is True and to_bool(0) is False and to_bool("1") is True
    with pytest.raises(Unconvertible):
        to_bool(2)


def test_typed_row_types_known_fields_and_reports_the_rest() -> None:
    record = {
        "id": 1,
        "listingMapId": "77",
        "arrivalDate": "2026-05-01",
        "totalPrice": "350.50",
        "numberOfGuests": "many",
        "updatedOn": "2026-04-01 08:00:00",
        "status": "new\x00",
    }
    row, bad = typed_row(record, RESERVATIONS.fields)
    assert row["listing_map_id"] == 77
    assert row["arrival_date"] == date(2026, 5, 1)
    assert row["total_price"] == Decimal("350.50")
    assert row["number_of_guests"] is None and bad == ["status", "numberOfGuests"]
    assert row["status"] is None  # PostgreSQL text cannot hold NUL: NULL, counted; payload keeps it
    assert row["cancellation_date"] is None


def test_an_unreadable_cursor_is_none_so_it_never_stops_paging() -> None:
    assert cursor_value({"updatedOn": "garbage"}, "updatedOn") is None
