"""Monthly listing performance, computed with pandas from reservations, calendar days and money.

Nights are attributed to the month they fall in (a stay across a month end counts in both).
Occupancy comes from the calendar where it has the night, from reservations where it does not
(months outside the calendar window): a night is booked when its calendar day is `reserved`, or,
without a calendar day, when a confirmed stay covers it. Revenue is each confirmed stay's money
(its finance fields' total where present, else its totalPrice, see marts/financials.py) spread evenly
over its nights. Only confirmed stays earn: cancelled, declined, expired, pending and inquiry
reservations are excluded, and owner stays earn nothing.

Column lineage of `listing_monthly_stats` (per listing and month):

| column | from |
|---|---|
| listing_id, month | `listing_calendar`.listing_map_id, date; `reservations`.listing_map_id, arrival_date..departure_date |
| calendar_nights | count of `listing_calendar` days of the month (0: outside the calendar window) |
| blocked_nights | `listing_calendar` days with status blocked (`blocked`, `mblocked`, `hardBlock`) |
| booked_nights | `listing_calendar` days with status `reserved`/`mreserved`, plus nights without a calendar day covered by a confirmed stay in `reservations` (status new/modified) |
| available_nights | days in the month minus blocked_nights: the nights the listing could be sold |
| occupancy | booked_nights / available_nights |
| stay_nights | nights of confirmed stays (`reservations`) in the month |
| revenue | per confirmed stay: its revenue (`financials.reservation_revenue`, the definition `reservation_financials`.total uses too), divided by its nights, summed over the month's nights |
| adr | revenue / stay_nights |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hostaway_pipeline.marts.financials import money, reservation_revenue

if TYPE_CHECKING:  # pandas is imported when stats are computed, not with the definitions
    import pandas as pd

CONFIRMED_STATUSES = frozenset({"new", "modified"})
BOOKED_DAY = frozenset({"reserved", "mreserved"})
BLOCKED_DAY = frozenset({"blocked", "mblocked", "hardBlock"})
# Column -> the (table, column) pairs it is computed from: `dagster/column_lineage` of the asset.
_RES, _CAL = "reservations", "listing_calendar"
LINEAGE: dict[str, tuple[tuple[str, str], ...]] = {
    "listing_id": ((_CAL, "listing_map_id"), (_RES, "listing_map_id")),
    "month": ((_CAL, "date"), (_RES, "arrival_date"), (_RES, "departure_date")),
    "calendar_nights": ((_CAL, "date"),),
    "blocked_nights": ((_CAL, "status"), (_CAL, "is_available")),
    "booked_nights": ((_CAL, "status"), (_RES, "status"), (_RES, "arrival_date"),
                      (_RES, "departure_date")),
    "available_nights": ((_CAL, "status"),),
    "occupancy": ((_CAL, "status"), (_RES, "status"), (_RES, "arrival_date"),
                  (_RES, "departure_date")),
    "stay_nights": ((_RES, "status"), (_RES, "arrival_date"), (_RES, "departure_date")),
    "revenue": ((_RES, "total_price"), ("reservation_finance_fields", "total"),
                ("reservation_finance_fields", "value"),
                ("reservation_finance_fields", "is_included_in_total_price")),
    "adr": ((_RES, "total_price"), ("reservation_finance_fields", "total"), (_RES, "status")),
}  # fmt: skip
STATS_COLUMNS = [
    "listing_id", "month", "booked_nights", "revenue", "adr", "occupancy", "available_nights",
    "blocked_nights", "calendar_nights", "stay_nights",
]  # fmt: skip


def _stay_nights(reservations: pd.DataFrame, finance: pd.DataFrame | None) -> pd.DataFrame:
    """One row per night of a confirmed stay: listing_id, night, nightly (revenue share)."""
    import pandas as pd

    confirmed = reservations[reservations["status"].isin(CONFIRMED_STATUSES)].copy()
    confirmed = confirmed.dropna(subset=["listing_map_id", "arrival_date", "departure_date"])
    confirmed["arrival"] = pd.to_datetime(confirmed["arrival_date"])
    departure = pd.to_datetime(confirmed["departure_date"])
    confirmed["nights"] = (departure - confirmed["arrival"]).dt.days
    confirmed = confirmed[confirmed["nights"] > 0]
    if confirmed.empty:
        return pd.DataFrame({"listing_id": [], "night": pd.to_datetime([]), "nightly": []})
    revenue = reservation_revenue(confirmed, finance).fillna(0.0)  # no money known: none
    confirmed["nightly"] = revenue / confirmed["nights"]
    nights = confirmed.loc[confirmed.index.repeat(confirmed["nights"])].copy()
    offset = pd.to_timedelta(nights.groupby(level=0).cumcount(), unit="D")
    nights["night"] = nights["arrival"] + offset
    nights["listing_id"] = nights["listing_map_id"].astype("int64")
    return nights[["listing_id", "night", "nightly"]].reset_index(drop=True)


def _calendar_days(calendar: pd.DataFrame | None) -> pd.DataFrame:
    """One row per calendar day: listing_id, night, booked, blocked."""
    import pandas as pd

    if calendar is None or calendar.empty:
        return pd.DataFrame(
            {"listing_id": [], "night": pd.to_datetime([]), "booked": [], "blocked": []}
        )
    days = calendar.dropna(subset=["listing_map_id", "date"])
    status = days["status"]
    unavailable = ~days["is_available"].fillna(True).astype(bool)
    return pd.DataFrame(
        {
            "listing_id": days["listing_map_id"].astype("int64"),
            "night": pd.to_datetime(days["date"]),
            "booked": status.isin(BOOKED_DAY),
            # no status: an unavailable day that is not a booking is a block
            "blocked": status.isin(BLOCKED_DAY) | (status.isna() & unavailable),
        }
    ).drop_duplicates(["listing_id", "night"])


def monthly_listing_stats(
    reservations: pd.DataFrame,
    calendar: pd.DataFrame | None = None,
    finance: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per listing and month: STATS_COLUMNS (see the module's lineage table).

    `reservations`: id, listing_map_id, status, arrival_date, departure_date, total_price;
    `calendar`: listing_map_id, date, is_available, status; `finance`: financials.FINANCE_INPUT.
    """
    import pandas as pd

    stays = _stay_nights(reservations, finance)
    days = _calendar_days(calendar)
    covered = days.set_index(["listing_id", "night"]).index
    stayed = stays.drop_duplicates(["listing_id", "night"])
    uncovered = stayed[~stayed.set_index(["listing_id", "night"]).index.isin(covered)]
    parts = [
        days.assign(calendar_nights=1, blocked_nights=days["blocked"].astype(int),
                    booked_nights=days["booked"].astype(int)),
        uncovered.assign(booked_nights=1)[["listing_id", "night", "booked_nights"]],
        stays.assign(stay_nights=1).rename(columns={"nightly": "revenue"}),
    ]  # fmt: skip
    present = [p for p in parts if not p.empty]
    if not present:
        return pd.DataFrame(columns=STATS_COLUMNS)
    nights = pd.concat(present, ignore_index=True)
    nights["month"] = nights["night"].dt.to_period("M")
    counts = ["calendar_nights", "blocked_nights", "booked_nights", "stay_nights"]
    nights = nights.reindex(columns=["listing_id", "month", *counts, "revenue"], fill_value=0)
    summed = [*counts, "revenue"]
    nights[summed] = nights[summed].fillna(0)
    stats = nights.groupby(["listing_id", "month"]).sum().reset_index()
    stats[counts] = stats[counts].astype("int64")
    stats["available_nights"] = stats["month"].dt.days_in_month - stats["blocked_nights"]
    stats["revenue"] = stats["revenue"].astype(float).round(2)
    stay_nights = stats["stay_nights"].where(stats["stay_nights"] > 0)
    stats["adr"] = (stats["revenue"] / stay_nights).round(2)
    available = stats["available_nights"].where(stats["available_nights"] > 0)
    stats["occupancy"] = (stats["booked_nights"] / available).round(4)
    stats["month"] = stats["month"].dt.to_timestamp().dt.date
    stats["listing_id"] = stats["listing_id"].astype("int64")
    return stats[STATS_COLUMNS]


def summary(stats: pd.DataFrame) -> dict[str, int | float]:
    """What a materialization of `listing_monthly_stats` reports."""
    written = len(stats)
    return {
        "listings": int(stats["listing_id"].nunique()) if written else 0,
        "booked_nights": int(stats["booked_nights"].sum()) if written else 0,
        "calendar_nights": int(stats["calendar_nights"].sum()) if written else 0,
        "revenue": money(stats["revenue"].sum()) if written else 0.0,
    }
