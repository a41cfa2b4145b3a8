"""The account-partitioned sync assets, built from the stream specs by one factory."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from hostaway_pipeline import streams
from hostaway_pipeline.client.errors import HostawayError
from hostaway_pipeline.defs.checks import check_results, check_specs_for
from hostaway_pipeline.defs.config import SyncConfig
from hostaway_pipeline.defs.logs import request_logger
from hostaway_pipeline.defs.metadata import run_metadata, table_metadata
from hostaway_pipeline.defs.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.streams import StreamSpec
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.accounts import AccountError
from hostaway_pipeline.warehouse.errors import WarehouseError
from hostaway_pipeline.warehouse.quality import live_row_count

GROUP = "hostaway"
OWNERS = ["team:data-engineering"]
# Incremental syncs run every 30 minutes; two missed ticks is a warning, four a failure.
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=2), warn_window=timedelta(hours=1)
)

TRANSIENT_RETRIES = 2

DESCRIPTIONS = {
    "listings": "Hostaway listings of the account (GET /v1/listings), one row per listing.",
    "reservations": "Hostaway reservations of the account (GET /v1/reservations), keyset-paged.",
    "conversations": "Guest conversations of the account (GET /v1/conversations).",
    "messages": "Every message of every conversation (GET /v1/conversations/{id}/messages); "
    "only conversations whose last sent/received time moved are refetched incrementally.",
}


def asset_key(spec: StreamSpec) -> dg.AssetKey:
    return dg.AssetKey([GROUP, spec.name])


def _asset_spec(spec: StreamSpec, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=asset_key(spec),
        deps=deps,
        description=DESCRIPTIONS[spec.name],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"python", "postgres"},
        partitions_def=ACCOUNTS,
        freshness_policy=FRESHNESS,
        metadata={"dagster/table_name": f"hostaway.{spec.table}"},
    )


def build_sync_asset(spec: StreamSpec, deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """One asset per stream; a child stream also materializes its parent (messages + conversations)."""
    specs = [_asset_spec(spec, deps)]
    if spec.parent is not None:
        specs.insert(0, _asset_spec(spec.parent, deps))
    name = f"{GROUP}__{spec.name}"

    @dg.multi_asset(name=name, specs=specs, check_specs=check_specs_for(spec))
    def _sync(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        hostaway: HostawayResource,
        warehouse: WarehouseResource,
    ) -> Iterator[dg.MaterializeResult]:
        account_id = partition_account(context.partition_key)
        engine = warehouse.get_engine()
        try:
            client = hostaway.client_for(account_id, warehouse, request_logger(context, account_id))
        except AccountError as exc:  # not registered or disabled: say what to do, don't retry
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        with client:
            sync = SyncEngine(client, engine, account_id, logger=context.log)
            try:
                report = sync.run(spec, SyncMode(config.mode), config.lookback)
            except (HostawayError, WarehouseError) as exc:
                if exc.retryable:  # API or database briefly unwell; nothing advanced: try again
                    raise dg.RetryRequested(TRANSIENT_RETRIES, seconds_to_wait=30) from exc
                raise
        shared = run_metadata(report)
        for counts_spec in ([spec.parent] if spec.parent else []) + [spec]:
            table = schema.table(counts_spec.table)
            live = live_row_count(engine, table, account_id)
            yield dg.MaterializeResult(
                asset_key=asset_key(counts_spec),
                metadata={**shared, **table_metadata(report.table(table.name), table, live)},
                check_results=check_results(counts_spec, report, engine),
            )

    return _sync


LISTINGS = build_sync_asset(streams.LISTINGS, [])
RESERVATIONS = build_sync_asset(streams.RESERVATIONS, [asset_key(streams.LISTINGS)])
MESSAGES = build_sync_asset(streams.MESSAGES, [asset_key(streams.RESERVATIONS)])

SYNC_ASSETS = [LISTINGS, RESERVATIONS, MESSAGES]
