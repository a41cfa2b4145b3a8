"""Each reservation's money, from its finance fields pivoted into columns (pandas).

Column lineage of `reservation_financials` (one row per live reservation; tables are the
warehouse's, fields are Hostaway's):

| column | from |
|---|---|
| reservation_id, listing_id, channel_id, status, arrival_date, departure_date, nights, currency, total_price | `reservations`: id, listing_map_id, channel_id, status, arrival_date, departure_date, nights, currency, total_price (`totalPrice`) |
| base_rate | `reservation_finance_fields`.total where name = `baseRate` |
| cleaning_fee | .total where name is a cleaning fee (`cleaningFee`, `cleaningFeeValue`, `additionalCleaningFee`, `midstayCleaningFee`) |
| channel_fee | .total where name is `hostChannelFee`/`guestChannelFee` or type = `commission` |
| taxes | .total where type = `tax` |
| discounts | .total where type = `discount` (sign as Hostaway gives it) |
| other_fees | .total of every other field (other fees and prices), summaries excluded |
| total | the stay's revenue (`reservation_revenue`, the one definition both marts use): sum of .total of the live fields with is_included_in_total_price, summaries such as `totalPriceFromChannel` left out; when no such field exists: `reservations`.total_price |
| finance_fields | count of the reservation's finance fields |

Fields with is_deleted are ignored everywhere; a field without `total` counts its `value`. A
component column is empty (NULL) when the reservation has no finance field at all, and 0 when it
has fields but none of that kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when the mart is computed, not with the definitions
    import pandas as pd

BASE_RATE = frozenset({"baseRate"})
CLEANING = frozenset(
    {"cleaningFee", "cleaningFeeValue", "additionalCleaningFee", "midstayCleaningFee"}
)
CHANNEL_FEES = frozenset({"hostChannelFee", "guestChannelFee"})
# A field that restates a total rather than adding to it.
SUMMARIES = frozenset({"totalPriceFromChannel"})
COMPONENTS = ["base_rate", "cleaning_fee", "other_fees", "discounts", "taxes", "channel_fee"]
FINANCIAL_COLUMNS = [
    "reservation_id", "listing_id", "channel_id", "status", "arrival_date", "departure_date",
    "nights", "currency", *COMPONENTS, "total", "total_price", "finance_fields",
]  # fmt: skip
# Column -> the (table, column) pairs it is computed from: `dagster/column_lineage` of the asset.
_FF = "reservation_finance_fields"
_AMOUNT = ((_FF, "total"), (_FF, "value"), (_FF, "name"), (_FF, "type"), (_FF, "is_deleted"))
LINEAGE: dict[str, tuple[tuple[str, str], ...]] = {
    "reservation_id": (("reservations", "id"),),
    "listing_id": (("reservations", "listing_map_id"),),
    **{c: (("reservations", c),) for c in (
        "channel_id", "status", "arrival_date", "departure_date", "nights", "currency",
        "total_price",
    )},
    **{c: _AMOUNT for c in COMPONENTS},
    "total": (*_AMOUNT, (_FF, "is_included_in_total_price"), ("reservations", "total_price")),
    "finance_fields": ((_FF, "id"), (_FF, "is_deleted")),
}  # fmt: skip
FINANCE_INPUT = [
    "reservation_id", "type", "name", "value", "total", "is_included_in_total_price", "is_deleted",
]  # fmt: skip


def _bucket(name: object, kind: object) -> str:
    if name in SUMMARIES:
        return "summary"
    if name in BASE_RATE:
        return "base_rate"
    if name in CLEANING:
        return "cleaning_fee"
    if name in CHANNEL_FEES or kind == "commission":
        return "channel_fee"
    if kind == "tax":
        return "taxes"
    if kind == "discount":
        return "discounts"
    return "other_fees"


def finance_totals(finance: pd.DataFrame) -> pd.DataFrame:
    """Per reservation_id: the component columns, `total` and `finance_fields`."""
    import pandas as pd

    live = finance[~finance["is_deleted"].fillna(False).astype(bool)].copy()
    if live.empty:
        return pd.DataFrame(columns=[*COMPONENTS, "total", "finance_fields"]).rename_axis(
            "reservation_id"
        )
    total = pd.to_numeric(live["total"], errors="coerce")
    live["amount"] = total.fillna(pd.to_numeric(live["value"], errors="coerce")).fillna(0.0)
    live["bucket"] = [_bucket(n, k) for n, k in zip(live["name"], live["type"], strict=True)]
    parts = live.pivot_table(
        index="reservation_id", columns="bucket", values="amount", aggfunc="sum", fill_value=0.0
    )
    out = parts.reindex(columns=COMPONENTS, fill_value=0.0).astype(float)
    included = live["is_included_in_total_price"].fillna(False).astype(bool)
    components = live[included & (live["bucket"] != "summary")]
    # NaN where no live field is included in the total price: reservation_revenue falls back to
    # the reservation's total_price (a summary restates a total; it never stands for one).
    out["total"] = components.groupby("reservation_id")["amount"].sum()
    out["finance_fields"] = live.groupby("reservation_id").size()
    return out


def reservation_financials(reservations: pd.DataFrame, finance: pd.DataFrame) -> pd.DataFrame:
    """One row per reservation (FINANCIAL_COLUMNS), finance fields pivoted into columns.

    `reservations`: id, listing_map_id, channel_id, status, arrival_date, departure_date, nights,
    currency, total_price. `finance`: FINANCE_INPUT.
    """
    import pandas as pd

    totals = finance_totals(finance).drop(columns="total")
    frame = reservations.rename(columns={"id": "reservation_id", "listing_map_id": "listing_id"})
    frame = frame.join(totals, on="reservation_id")
    frame["total_price"] = pd.to_numeric(frame["total_price"], errors="coerce").astype(float)
    frame["total"] = reservation_revenue(reservations, finance)
    frame["finance_fields"] = frame["finance_fields"].fillna(0).astype("int64")
    for column in [*COMPONENTS, "total", "total_price"]:
        frame[column] = frame[column].astype(float).round(2)
    return frame[FINANCIAL_COLUMNS].sort_values("reservation_id").reset_index(drop=True)


def reservation_revenue(reservations: pd.DataFrame, finance: pd.DataFrame | None) -> pd.Series:
    """A stay's revenue, the one definition of both marts (index aligned with `reservations`):
    the sum of the `total` (else `value`) of its live finance fields included in the total
    price, summaries such as `totalPriceFromChannel` left out; when it has no such field, its
    `total_price`; NaN when neither is known."""
    import pandas as pd

    price = pd.to_numeric(reservations["total_price"], errors="coerce").astype(float)
    if finance is None or "id" not in reservations.columns:
        return price
    totals = finance_totals(finance)["total"]
    from_finance = pd.to_numeric(reservations["id"].map(totals), errors="coerce").astype(float)
    return from_finance.fillna(price)


def money(total: object) -> float:
    """A sum of amounts as the UI should show it: to the cent (floating-point sums of many
    amounts drift in the last digits, e.g. 125039.39000000001)."""
    return round(float(total), 2)  # type: ignore[arg-type]


def summary(frame: pd.DataFrame) -> dict[str, int | float]:
    """What a materialization of `reservation_financials` reports."""
    written = len(frame)
    return {
        "with_finance_fields": int((frame["finance_fields"] > 0).sum()) if written else 0,
        "total": money(frame["total"].sum()) if written else 0.0,
    }
