"""The first thing a property manager asks: how each listing performed, month by month."""

from collections.abc import Iterator

import dagster as dg

from hostaway_pipeline import streams
from hostaway_pipeline.analytics import monthly_listing_stats
from hostaway_pipeline.defs.assets import GROUP, OWNERS, asset_key
from hostaway_pipeline.defs.metadata import table_schema
from hostaway_pipeline.defs.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.selection import entity_selection
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.reports import live_reservations, replace_listing_stats

TABLE = schema.table("listing_monthly_stats")


@dg.asset(
    key=[GROUP, "listing_monthly_stats"],
    deps=[asset_key(streams.RESERVATIONS)],  # the only table it reads (live_reservations)
    partitions_def=ACCOUNTS,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas", "postgres"},
    output_required=False,  # an account that does not select it skips it
    metadata={
        "dagster/table_name": f"hostaway.{TABLE.name}",
        "dagster/column_schema": table_schema(TABLE),
    },
    description="Per listing and month: booked nights, revenue, average daily rate and occupancy "
    "(confirmed stays only; cancelled, declined, inquiry and owner stays excluded).",
)
def listing_monthly_stats(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> Iterator[dg.MaterializeResult]:
    account_id = partition_account(context.partition_key)
    if TABLE.name not in entity_selection(hostaway.entities, warehouse.accounts().get(account_id)):
        context.log.info(f"account {account_id}: {TABLE.name} is not selected; skipped")
        return
    engine = warehouse.get_engine()
    stats = monthly_listing_stats(live_reservations(engine, account_id))
    written = replace_listing_stats(engine, account_id, stats)
    yield dg.MaterializeResult(
        metadata={
            "dagster/partition_row_count": written,
            "listings": int(stats["listing_id"].nunique()) if written else 0,
            "booked_nights": int(stats["booked_nights"].sum()) if written else 0,
            "revenue": dg.MetadataValue.float(float(stats["revenue"].sum()) if written else 0.0),
            "preview": dg.MetadataValue.md(
                "```\n" + stats.head(12).to_string(index=False) + "\n```" if written else "(none)"
            ),
        }
    )
