"""Monthly listing performance, computed with pandas from the warehouse's reservations.

Nights are attributed to the month they fall in (a stay across a month end counts in both), and
revenue is spread evenly over a stay's nights. Only confirmed stays count: cancelled, declined,
expired, pending and inquiry reservations are excluded, and owner stays earn nothing, so they are
excluded from revenue and from booked nights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when stats are computed, not with the definitions
    import pandas as pd

CONFIRMED_STATUSES = frozenset({"new", "modified"})
STATS_COLUMNS = [
    "listing_id", "month", "booked_nights", "revenue", "adr", "occupancy", "available_nights",
]  # fmt: skip


def monthly_listing_stats(reservations: pd.DataFrame) -> pd.DataFrame:
    """Per listing and month: booked nights, revenue, average daily rate and occupancy.

    `reservations` has columns listing_map_id, status, arrival_date, departure_date, total_price.
    """
    import pandas as pd

    confirmed = reservations[reservations["status"].isin(CONFIRMED_STATUSES)].copy()
    confirmed = confirmed.dropna(subset=["listing_map_id", "arrival_date", "departure_date"])
    arrival = pd.to_datetime(confirmed["arrival_date"])
    departure = pd.to_datetime(confirmed["departure_date"])
    confirmed["nights"] = (departure - arrival).dt.days
    confirmed = confirmed[confirmed["nights"] > 0]
    if confirmed.empty:
        return pd.DataFrame(columns=STATS_COLUMNS)
    confirmed["arrival"] = arrival
    price = pd.to_numeric(confirmed["total_price"], errors="coerce").fillna(0.0).astype(float)
    confirmed["nightly"] = price / confirmed["nights"]
    nights = confirmed.loc[confirmed.index.repeat(confirmed["nights"])].copy()
    nights["night"] = nights["arrival"] + pd.to_timedelta(
        nights.groupby(level=0).cumcount(), unit="D"
    )
    nights["month"] = nights["night"].dt.to_period("M")
    stats = (
        nights.groupby(["listing_map_id", "month"])
        .agg(booked_nights=("night", "size"), revenue=("nightly", "sum"))
        .reset_index()
        .rename(columns={"listing_map_id": "listing_id"})
    )
    stats["available_nights"] = stats["month"].dt.days_in_month
    stats["adr"] = (stats["revenue"] / stats["booked_nights"]).round(2)
    stats["revenue"] = stats["revenue"].round(2)
    stats["occupancy"] = (stats["booked_nights"] / stats["available_nights"]).round(4)
    stats["month"] = stats["month"].dt.to_timestamp().dt.date
    stats["listing_id"] = stats["listing_id"].astype("int64")
    return stats[STATS_COLUMNS]
