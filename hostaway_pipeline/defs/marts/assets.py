"""The marts: how each listing performed month by month, and each reservation's money (pandas).

Each reads the account's live rows of the tables it depends on and replaces its own rows for the
account; the column lineage (which column comes from which table and field) is in the asset's
`dagster/column_lineage` and in marts/analytics.py / marts/financials.py.
"""

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.accounts.selection import entity_selection
from hostaway_pipeline.defs._support.metadata import table_schema
from hostaway_pipeline.defs.entities.assets import GROUP, OWNERS, asset_key
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.marts import analytics, financials
from hostaway_pipeline.marts import reads as reports
from hostaway_pipeline.warehouse import schema

if TYPE_CHECKING:
    import pandas as pd

STATS, FINANCIALS = schema.table("listing_monthly_stats"), schema.table("reservation_financials")
# The tables each mart reads (reports.live_*): its lineage is data flow only.
_FINANCE = streams.by_name("reservation_finance_fields")
FINANCIALS_DEPS = [asset_key(streams.RESERVATIONS), asset_key(_FINANCE)]
STATS_DEPS = [*FINANCIALS_DEPS, asset_key(streams.by_name("listing_calendar"))]


def column_lineage(lineage: Mapping[str, tuple[tuple[str, str], ...]]) -> dg.TableColumnLineage:
    """Column -> the entity tables' columns it comes from, as Dagster shows it."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [
                dg.TableColumnDep(asset_key=asset_key(streams.by_name(table)), column_name=name)
                for table, name in deps
            ]
            for column, deps in lineage.items()
        }
    )


def _money(total: object) -> float:
    """A sum of amounts as the UI should show it: to the cent (floating-point sums of many
    amounts drift in the last digits, e.g. 125039.39000000001)."""
    return round(float(total), 2)  # type: ignore[arg-type]


def _mart_metadata(
    table: sa.Table, lineage: Mapping[str, tuple[tuple[str, str], ...]]
) -> dict[str, object]:
    return {
        "dagster/table_name": f"hostaway.{table.name}",
        "dagster/column_schema": table_schema(table),
        "dagster/column_lineage": column_lineage(lineage),
    }


def _preview(frame: "pd.DataFrame", written: int) -> dg.MetadataValue:
    text = frame.head(12).to_string(index=False) if written else ""
    return dg.MetadataValue.md(f"```\n{text}\n```" if written else "(none)")


def _selected(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    hostaway: HostawayResource,
    mart: str,
    account_id: int,
) -> bool:
    """Whether the account selects the mart (HOSTAWAY_ENTITIES or its own override)."""
    if mart in entity_selection(hostaway.entities, warehouse.accounts().get(account_id)):
        return True
    context.log.info(f"account {account_id}: {mart} is not selected; skipped")
    return False


@dg.asset(
    key=[GROUP, "listing_monthly_stats"],
    deps=STATS_DEPS,
    partitions_def=ACCOUNTS,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas", "postgres"},
    output_required=False,  # an account that does not select it skips it
    metadata=_mart_metadata(STATS, analytics.LINEAGE),
    description="Per listing and month: booked, blocked and available nights and occupancy from "
    "the calendar (listing_calendar status) where it has the night, else from confirmed stays "
    "(reservations); revenue from the stays' finance fields (reservation_finance_fields total "
    "included in the total price) where present, else reservations.total_price, spread over the "
    "nights; ADR = revenue / stay nights. Computed in the runs that sync the calendar (a daily "
    "entity): the full sync and the incremental that finds it due; other incrementals skip it. "
    "Column lineage: dagster/column_lineage.",
)
def listing_monthly_stats(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> Iterator[dg.MaterializeResult]:
    account_id = partition_account(context.partition_key)
    if not _selected(context, warehouse, hostaway, STATS.name, account_id):
        return
    engine = warehouse.get_engine()
    stats = analytics.monthly_listing_stats(
        reports.live_reservations(engine, account_id),
        reports.live_calendar(engine, account_id),
        reports.live_finance_fields(engine, account_id),
    )
    written = reports.replace_mart(engine, STATS.name, account_id, stats)
    yield dg.MaterializeResult(
        metadata={
            "dagster/partition_row_count": written,
            "listings": int(stats["listing_id"].nunique()) if written else 0,
            "booked_nights": int(stats["booked_nights"].sum()) if written else 0,
            "calendar_nights": int(stats["calendar_nights"].sum()) if written else 0,
            "revenue": dg.MetadataValue.float(_money(stats["revenue"].sum()) if written else 0.0),
            "preview": _preview(stats, written),
        }
    )


@dg.asset(
    key=[GROUP, "reservation_financials"],
    deps=[
        asset_key(streams.RESERVATIONS),
        asset_key(streams.by_name("reservation_finance_fields")),
    ],
    partitions_def=ACCOUNTS,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas", "postgres"},
    output_required=False,  # an account that does not select it skips it
    metadata=_mart_metadata(FINANCIALS, financials.LINEAGE),
    description="One row per reservation: its finance fields (reservation_finance_fields) "
    "pivoted into base rate, cleaning fee, other fees, discounts, taxes, channel fee and total, "
    "with its currency, dates and totalPrice from reservations; total falls back to totalPrice "
    "when the reservation has no finance field. Ids, dates and money only. Column lineage: "
    "dagster/column_lineage.",
)
def reservation_financials(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> Iterator[dg.MaterializeResult]:
    account_id = partition_account(context.partition_key)
    if not _selected(context, warehouse, hostaway, FINANCIALS.name, account_id):
        return
    engine = warehouse.get_engine()
    frame = financials.reservation_financials(
        reports.live_reservations(engine, account_id),
        reports.live_finance_fields(engine, account_id),
    )
    written = reports.replace_mart(engine, FINANCIALS.name, account_id, frame)
    with_fields = int((frame["finance_fields"] > 0).sum()) if written else 0
    yield dg.MaterializeResult(
        metadata={
            "dagster/partition_row_count": written,
            "with_finance_fields": with_fields,
            "total": dg.MetadataValue.float(_money(frame["total"].sum()) if written else 0.0),
            "preview": _preview(frame, written),
        }
    )


MARTS = [listing_monthly_stats, reservation_financials]
