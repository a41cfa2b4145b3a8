"""A stay's revenue, one definition for both marts (README, Marts), against figures computed by
hand: fields included in the total and not, summaries only, no fields, deleted fields, stays
crossing months, overlapping stays, cancelled stays and owner stays. Each expected number below
is worked out in its comment, never by calling the code under test."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from hostaway_pipeline.marts.analytics import monthly_listing_stats
from hostaway_pipeline.marts.financials import FINANCE_INPUT, reservation_financials

COLUMNS = [
    "id", "listing_map_id", "channel_id", "status", "arrival_date", "departure_date", "nights",
    "currency", "total_price",
]  # fmt: skip
RESERVATIONS = pd.DataFrame(
    [
        # 1: fields included and not: 400 + 80 + 40 included, the 60 channel fee not: 520
        (1, 7, 2000, "new", "2026-03-01", "2026-03-05", 4, "EUR", 999.0),
        # 2: only a summary (included or not, a summary restates a total): total_price 300
        (2, 7, 2000, "new", "2026-03-10", "2026-03-12", 2, "EUR", 300.0),
        # 3: no finance field at all: total_price 270
        (3, 7, 2005, "modified", "2026-03-20", "2026-03-23", 3, "EUR", 270.0),
        # 4: a deleted field is ignored, the live included one counts: 180
        (4, 8, 2000, "new", "2026-04-01", "2026-04-03", 2, "EUR", 250.0),
        # 5: the stay, crossing March/April: a channel fee not included (15) and a
        # totalPriceFromChannel summary (393); nothing included: total_price 378, 94.50 a night
        (5, 7, 2000, "new", "2026-03-30", "2026-04-03", 4, "EUR", 378.0),
        # 6: overlaps stay 5 on April 2 (no calendar): 100, 50 a night
        (6, 7, 2000, "new", "2026-04-02", "2026-04-04", 2, "EUR", 100.0),
        # 7: cancelled: in reservation_financials (900), not a stay of the monthly mart
        (7, 7, 2000, "cancelled", "2026-03-05", "2026-03-08", 3, "EUR", 900.0),
        # 8: an owner stay: no revenue anywhere, not a stay of the monthly mart
        (8, 8, 0, "ownerStay", "2026-04-10", "2026-04-12", 2, "EUR", 0.0),
        # 9: only deleted included fields: total_price 77
        (9, 8, 2000, "new", "2026-05-01", "2026-05-02", 1, "EUR", 77.0),
    ],
    columns=COLUMNS,
)
FINANCE = pd.DataFrame(
    [
        (1, "price", "baseRate", 400.0, 400.0, True, False),
        (1, "fee", "cleaningFee", 80.0, 80.0, True, False),
        (1, "commission", "hostChannelFee", 60.0, 60.0, False, False),
        (1, "tax", "vat", 40.0, None, True, False),  # no total: its value counts
        (2, "price", "totalPriceFromChannel", 330.0, 330.0, True, False),
        (4, "price", "baseRate", 180.0, 180.0, True, False),
        (4, "fee", "petFee", 40.0, 40.0, True, True),  # deleted
        (5, "commission", "hostChannelFee", 15.0, 15.0, False, False),
        (5, "price", "totalPriceFromChannel", 393.0, 393.0, False, False),
        (7, "price", "baseRate", 900.0, 900.0, True, False),
        (9, "price", "baseRate", 500.0, 500.0, True, True),  # deleted
    ],
    columns=FINANCE_INPUT,
)
# By hand, per reservation (the comments above).
TOTALS = {1: 520.0, 2: 300.0, 3: 270.0, 4: 180.0, 5: 378.0, 6: 100.0, 7: 900.0, 8: 0.0, 9: 77.0}
CONFIRMED = (1, 2, 3, 4, 5, 6, 9)


def test_reservation_financials_total_is_the_stay_revenue_of_every_branch() -> None:
    frame = reservation_financials(RESERVATIONS, FINANCE).set_index("reservation_id")
    assert frame["total"].to_dict() == TOTALS


def test_monthly_stats_spread_that_revenue_over_the_nights_of_confirmed_stays() -> None:
    stats = monthly_listing_stats(RESERVATIONS, None, FINANCE)
    got = {(r["listing_id"], r["month"]): r for r in stats.to_dict("records")}
    march, april, may = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)
    assert set(got) == {(7, march), (7, april), (8, april), (8, may)}
    # Listing 7, March: stays 1 (4 nights, 520), 2 (2, 300), 3 (3, 270) and 5's March 30 and 31
    # (2 x 94.50 = 189): 11 nights, 1,279; adr 1279 / 11 = 116.27; occupancy 11 / 31 = 0.3548.
    m = got[(7, march)]
    assert (m["stay_nights"], m["booked_nights"], m["revenue"]) == (11, 11, 1279.0)
    assert (m["adr"], m["occupancy"], m["available_nights"]) == (116.27, 0.3548, 31)
    # Listing 7, April: 5's April 1 and 2 (189) and 6's April 2 and 3 (100): 4 stay nights, 289,
    # adr 72.25; booked nights are nights, not stays: April 1, 2, 3 = 3; occupancy 3 / 30 = 0.1.
    a = got[(7, april)]
    assert (a["stay_nights"], a["booked_nights"], a["revenue"], a["adr"]) == (4, 3, 289.0, 72.25)
    assert a["occupancy"] == 0.1
    # Listing 8, April: stay 4 (2 nights, 180; the owner stay is not one): adr 90.
    b = got[(8, april)]
    assert (b["stay_nights"], b["booked_nights"], b["revenue"], b["adr"]) == (2, 2, 180.0, 90.0)
    # Listing 8, May: stay 9, one night, 77.
    assert (got[(8, may)]["revenue"], got[(8, may)]["adr"]) == (77.0, 77.0)


@pytest.mark.parametrize("rid", CONFIRMED)
def test_the_two_marts_agree_on_each_confirmed_stay(rid: int) -> None:
    one = RESERVATIONS[RESERVATIONS["id"] == rid]
    monthly = monthly_listing_stats(one, None, FINANCE)["revenue"].sum()
    total = reservation_financials(one, FINANCE)["total"].item()
    assert round(monthly, 2) == total == TOTALS[rid]
