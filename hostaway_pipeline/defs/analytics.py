"""The first thing a property manager asks: how each listing performed, month by month."""

import dagster as dg

from hostaway_pipeline import streams
from hostaway_pipeline.analytics import monthly_listing_stats
from hostaway_pipeline.defs.assets import GROUP, OWNERS, asset_key
from hostaway_pipeline.defs.metadata import table_schema
from hostaway_pipeline.defs.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import WarehouseResource
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.reports import (
    live_stays,
    replace_listing_stats,
    stored_stats_match,
)

TABLE = schema.table("listing_monthly_stats")


@dg.asset(
    key=[GROUP, "listing_monthly_stats"],
    deps=[asset_key(streams.RESERVATIONS)],  # the only table it reads (live_reservations)
    partitions_def=ACCOUNTS,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas", "postgres"},
    metadata={
        "dagster/table_name": f"hostaway.{TABLE.name}",
        "dagster/column_schema": table_schema(TABLE),
    },
    description="Per listing and month: booked nights, revenue, average daily rate and occupancy "
    "(confirmed stays only; cancelled, declined, inquiry and owner stays excluded).",
)
def listing_monthly_stats(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    account_id = partition_account(context.partition_key)
    engine = warehouse.get_engine()
    stays = live_stays(engine, account_id)
    version = dg.DataVersion(stays.fingerprint)
    # Most incremental runs change no reservation: then the stored stats stand, and this step
    # neither imports pandas nor rewrites the table (see warehouse/reports.py).
    kept = stored_stats_match(engine, account_id, stays)
    if kept is not None:
        return dg.MaterializeResult(
            data_version=version,
            metadata={
                "dagster/partition_row_count": kept.rows,
                "recomputed": False,
                "listings": kept.listings,
                "booked_nights": kept.booked_nights,
                "revenue": dg.MetadataValue.float(kept.revenue),
                "preview": dg.MetadataValue.md(
                    "(kept: the reservations are those it was computed from)"
                ),
            },
        )
    stats = monthly_listing_stats(stays.frame())
    written = replace_listing_stats(engine, account_id, stats, stays)
    return dg.MaterializeResult(
        data_version=version,
        metadata={
            "dagster/partition_row_count": written,
            "recomputed": True,
            "listings": int(stats["listing_id"].nunique()) if written else 0,
            "booked_nights": int(stats["booked_nights"].sum()) if written else 0,
            "revenue": dg.MetadataValue.float(float(stats["revenue"].sum()) if written else 0.0),
            "preview": dg.MetadataValue.md(
                "```\n" + stats.head(12).to_string(index=False) + "\n```" if written else "(none)"
            ),
        },
    )
