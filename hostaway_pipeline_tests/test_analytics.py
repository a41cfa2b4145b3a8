"""Monthly listing stats: nights split across months, revenue spread per night, cancellations out."""

from __future__ import annotations

from datetime import date

import pandas as pd

from hostaway_pipeline.analytics import monthly_listing_stats


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
