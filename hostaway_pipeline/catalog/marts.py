"""The marts, each declared once: a table computed from entity tables, not fetched.

A `Mart` says which entity tables it reads (their live rows, in the order its computation takes
them), the warehouse table it replaces per account, its computation and column lineage (dotted
paths into `hostaway_pipeline/marts/`, imported where used: the catalog stays free of pandas),
and the summary its materialization reports. Everything else derives from this list: the Dagster
mart assets (defs/marts/assets.py), the selection rule "a mart implies what it reads"
(catalog/selection.py), `accounts remove --purge` (accounts/repo.py) and the tests' mart lists.

A new mart: its table in warehouse/schema.py (and the migration generated from it), its
computation in marts/, one entry here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mart:
    name: str  # the warehouse table it replaces per account (warehouse/schema.py), the asset name
    reads: tuple[str, ...]  # entity tables whose live rows `compute` takes, in argument order
    compute: str  # "module:function": (frames of `reads`) -> the mart's frame
    lineage: str  # "module:ATTR": column -> ((entity table, column), ...)
    summary: str  # "module:function": (frame) -> {metadata name: number} of a materialization
    description: str

    def load(self, attr: str) -> Any:
        """The object one of the dotted fields names (`compute`, `lineage` or `summary`)."""
        module, _, name = getattr(self, attr).partition(":")
        return getattr(importlib.import_module(module), name)


MARTS: tuple[Mart, ...] = (
    Mart(
        name="listing_monthly_stats",
        reads=("reservations", "listing_calendar", "reservation_finance_fields"),
        compute="hostaway_pipeline.marts.analytics:monthly_listing_stats",
        lineage="hostaway_pipeline.marts.analytics:LINEAGE",
        summary="hostaway_pipeline.marts.analytics:summary",
        description="Per listing and month: booked, blocked and available nights and occupancy "
        "from the calendar (listing_calendar status) where it has the night, else from confirmed "
        "stays (reservations); revenue from the stays' finance fields "
        "(reservation_finance_fields total included in the total price) where present, else "
        "reservations.total_price, spread over the nights; ADR = revenue / stay nights. Computed "
        "in the runs that sync the calendar (a daily entity): the full sync and the incremental "
        "that finds it due; other incrementals skip it. Column lineage: dagster/column_lineage.",
    ),
    Mart(
        name="reservation_financials",
        reads=("reservations", "reservation_finance_fields"),
        compute="hostaway_pipeline.marts.financials:reservation_financials",
        lineage="hostaway_pipeline.marts.financials:LINEAGE",
        summary="hostaway_pipeline.marts.financials:summary",
        description="One row per reservation: its finance fields (reservation_finance_fields) "
        "pivoted into base rate, cleaning fee, other fees, discounts, taxes, channel fee and "
        "total, with its currency, dates and totalPrice from reservations; total falls back to "
        "totalPrice when the reservation has no finance field. Ids, dates and money only. Column "
        "lineage: dagster/column_lineage.",
    ),
)


def by_name(name: str) -> Mart:
    """A mart by its table name; KeyError names the known ones."""
    for mart in MARTS:
        if mart.name == name:
            return mart
    raise KeyError(f"no mart {name!r}; known: {[m.name for m in MARTS]}")
