"""Monthly listing stats: nights split across months, revenue spread per night, cancellations out."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from hostaway_pipeline.marts.analytics import monthly_listing_stats
from hostaway_pipeline.marts.financials import FINANCE_INPUT


def _reservations(*rows: tuple[int, str, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["listing_map_id", "status", "arrival_date", "departure_date", "total_price"]
    )


def test_a_stay_across_a_month_end_counts_in_both_months() -> None:
    stats = monthly_listing_stats(_reservations((7, "new", "2026-01-30", "2026-02-03", 400.0)))
    by_month = stats.set_index("month")
    assert by_month.loc[date(2026, 1, 1), "booked_nights"] == 2
    assert by_month.loc[date(2026, 2, 1), "booked_nights"] == 2
    assert by_month.loc[date(2026, 1, 1), "revenue"] == 200.0
    assert by_month.loc[date(2026, 2, 1), "adr"] == 100.0
    assert by_month.loc[date(2026, 2, 1), "occupancy"] == round(2 / 28, 4)


def test_cancelled_and_inquiry_reservations_are_excluded() -> None:
    stats = monthly_listing_stats(
        _reservations(
            (7, "modified", "2026-03-01", "2026-03-04", 300.0),
            (7, "cancelled", "2026-03-10", "2026-03-20", 900.0),
            (7, "inquiry", "2026-03-21", "2026-03-25", 500.0),
            (8, "new", "2026-03-01", "2026-03-02", 80.0),
        )
    )
    assert stats[["listing_id", "booked_nights", "revenue"]].values.tolist() == [
        [7, 3, 300.0],
        [8, 1, 80.0],
    ]


def test_no_confirmed_stays_gives_an_empty_frame_with_the_columns() -> None:
    stats = monthly_listing_stats(_reservations((7, "cancelled", "2026-03-01", "2026-03-04", 1.0)))
    assert stats.empty and "occupancy" in stats.columns


def _calendar(listing: int, first: str, *statuses: str) -> pd.DataFrame:
    start = date.fromisoformat(first)
    return pd.DataFrame(
        [
            (listing, start + timedelta(days=k), status == "available", status)
            for k, status in enumerate(statuses)
        ],
        columns=["listing_map_id", "date", "is_available", "status"],
    )


def test_the_calendar_decides_occupancy_where_it_has_the_night() -> None:
    # The stay says 3 nights (Mar 1-3); the calendar has Mar 2-5: Mar 2 reserved (the stay),
    # Mar 3 blocked (the stay moved?), Mar 4 reserved (another booking), Mar 5 available.
    stays = _reservations((7, "new", "2026-03-01", "2026-03-04", 300.0))
    calendar = _calendar(7, "2026-03-02", "reserved", "blocked", "reserved", "available")
    (row,) = monthly_listing_stats(stays, calendar).to_dict("records")
    assert row["calendar_nights"] == 4 and row["blocked_nights"] == 1
    assert row["booked_nights"] == 1 + 2  # Mar 1 from the stay (no calendar day), Mar 2 and 4
    assert row["available_nights"] == 31 - 1
    assert row["occupancy"] == round(3 / 30, 4)
    assert row["stay_nights"] == 3 and row["revenue"] == 300.0 and row["adr"] == 100.0


def test_calendar_months_without_stays_are_rows_with_no_revenue() -> None:
    calendar = _calendar(7, "2026-04-29", "available", "available", "reserved")
    stats = monthly_listing_stats(_reservations(), calendar).set_index("month")
    assert stats.loc[date(2026, 4, 1), "booked_nights"] == 0
    assert stats.loc[date(2026, 5, 1), "booked_nights"] == 1
    assert stats.loc[date(2026, 5, 1), "revenue"] == 0.0
    assert pd.isna(stats.loc[date(2026, 5, 1), "adr"])


def test_revenue_comes_from_the_finance_fields_included_in_the_total() -> None:
    stays = _reservations((7, "new", "2026-03-01", "2026-03-03", 100.0)).assign(id=[1])
    finance = pd.DataFrame(
        [
            (1, "price", "baseRate", 150.0, 150.0, True, False),
            (1, "fee", "cleaningFee", 50.0, 50.0, True, False),
            (1, "fee", "petFee", 30.0, 30.0, True, True),  # deleted
            (1, "price", "totalPriceFromChannel", 999.0, 999.0, False, False),
        ],
        columns=FINANCE_INPUT,
    )
    (row,) = monthly_listing_stats(stays, None, finance).to_dict("records")
    assert row["revenue"] == 200.0 and row["adr"] == 100.0
