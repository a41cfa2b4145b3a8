"""Reservation financials: finance fields pivoted into columns, totalPrice when there are none."""

from __future__ import annotations

from datetime import date

import pandas as pd

from hostaway_pipeline.marts import analytics, financials
from hostaway_pipeline.marts.financials import (
    FINANCE_INPUT,
    FINANCIAL_COLUMNS,
    reservation_financials,
)
from hostaway_pipeline.warehouse import schema

RESERVATIONS = pd.DataFrame(
    [
        (1, 7, 2000, "new", date(2026, 3, 1), date(2026, 3, 3), 2, "EUR", 500.0),
        (2, 7, 2005, "cancelled", date(2026, 4, 1), date(2026, 4, 2), 1, "EUR", 120.0),
        (3, 8, 2000, "new", date(2026, 4, 1), date(2026, 4, 2), 1, "USD", 80.0),
    ],
    columns=[
        "id", "listing_map_id", "channel_id", "status", "arrival_date", "departure_date",
        "nights", "currency", "total_price",
    ],
)  # fmt: skip


def _finance(*rows: tuple[object, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FINANCE_INPUT)


def test_each_kind_of_field_lands_in_its_column_and_the_included_ones_make_the_total() -> None:
    finance = _finance(
        (1, "price", "baseRate", 400.0, 400.0, True, False),
        (1, "fee", "cleaningFee", 60.0, 60.0, True, False),
        (1, "fee", "petFee", 20.0, None, True, False),  # no total: its value counts
        (1, "tax", "vat", 35.0, 35.0, True, False),
        (1, "discount", "weeklyDiscount", -15.0, -15.0, True, False),
        (1, "commission", "hostChannelFee", 45.0, 45.0, False, False),  # paid by the host
        (1, "fee", "resortFee", 99.0, 99.0, True, True),  # deleted
        (1, "price", "totalPriceFromChannel", 500.0, 500.0, True, False),  # a summary
    )
    frame = reservation_financials(RESERVATIONS, finance)
    assert list(frame.columns) == FINANCIAL_COLUMNS
    row = frame.set_index("reservation_id").loc[1]
    assert (row["base_rate"], row["cleaning_fee"], row["other_fees"]) == (400.0, 60.0, 20.0)
    assert (row["taxes"], row["discounts"], row["channel_fee"]) == (35.0, -15.0, 45.0)
    assert row["total"] == 400 + 60 + 20 + 35 - 15
    assert row["finance_fields"] == 7
    assert row["listing_id"] == 7 and row["currency"] == "EUR"


def test_without_finance_fields_the_total_is_total_price_and_the_parts_are_unknown() -> None:
    finance = _finance((2, "price", "totalPriceFromChannel", 110.0, 110.0, False, False))
    frame = reservation_financials(RESERVATIONS, finance).set_index("reservation_id")
    assert frame.loc[3, "total"] == 80.0 and frame.loc[3, "finance_fields"] == 0
    assert pd.isna(frame.loc[3, "base_rate"])
    # only a summary field: it restates a total, never stands for one: total_price
    assert frame.loc[2, "total"] == 120.0 and frame.loc[2, "base_rate"] == 0.0


def test_every_mart_column_has_a_lineage_naming_real_columns() -> None:
    for name, lineage in (
        ("listing_monthly_stats", analytics.LINEAGE),
        ("reservation_financials", financials.LINEAGE),
    ):
        columns = {c.name for c in schema.table(name).columns} - {"account_id", "computed_at"}
        assert lineage.keys() == columns, name
        for source, column in {dep for deps in lineage.values() for dep in deps}:
            assert column in schema.table(source).columns, (name, source, column)
