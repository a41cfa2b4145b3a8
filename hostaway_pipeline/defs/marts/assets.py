"""The mart assets, one per `Mart` of catalog/marts.py (pandas).

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
from hostaway_pipeline.catalog.marts import MARTS as MART_SPECS
from hostaway_pipeline.catalog.marts import Mart
from hostaway_pipeline.defs._support.metadata import table_schema
from hostaway_pipeline.defs.entities.assets import GROUP, OWNERS, asset_key
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.marts import reads as reports
from hostaway_pipeline.warehouse import schema

if TYPE_CHECKING:
    import pandas as pd


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


def build_mart_asset(mart: Mart) -> dg.AssetsDefinition:
    """The asset of one mart: read its tables' live rows, compute, replace the account's rows."""
    compute = mart.load("compute")
    summarize = mart.load("summary")

    @dg.asset(
        name=mart.name,
        key_prefix=[GROUP],
        deps=[asset_key(streams.by_name(table)) for table in mart.reads],
        partitions_def=ACCOUNTS,
        group_name=GROUP,
        owners=OWNERS,
        kinds={"pandas", "postgres"},
        output_required=False,  # an account that does not select it skips it
        metadata=_mart_metadata(schema.table(mart.name), mart.load("lineage")),
        description=mart.description,
    )
    def _mart(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, hostaway: HostawayResource
    ) -> Iterator[dg.MaterializeResult]:
        account_id = partition_account(context.partition_key)
        if not _selected(context, warehouse, hostaway, mart.name, account_id):
            return
        engine = warehouse.get_engine()
        frames = [
            reports.live_rows(engine, table, account_id, reports.READ_COLUMNS[table])
            for table in mart.reads
        ]
        frame = compute(*frames)
        written = reports.replace_mart(engine, mart.name, account_id, frame)
        summary = {
            name: dg.MetadataValue.float(value) if isinstance(value, float) else value
            for name, value in summarize(frame).items()
        }
        yield dg.MaterializeResult(
            metadata={
                "dagster/partition_row_count": written,
                **summary,
                "preview": _preview(frame, written),
            }
        )

    return _mart


MARTS = [build_mart_asset(mart) for mart in MART_SPECS]
