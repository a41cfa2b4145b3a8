"""The account-partitioned sync assets, built from the catalog (`streams.CATALOG`) by one factory."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from hostaway_pipeline import streams
from hostaway_pipeline.client.errors import HostawayError
from hostaway_pipeline.defs.checks import check_results, check_specs_for
from hostaway_pipeline.defs.config import SyncConfig
from hostaway_pipeline.defs.logs import request_logger
from hostaway_pipeline.defs.metadata import run_metadata, table_metadata, table_schema
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
# Incremental syncs run every 30 minutes; two missed ticks is a warning, four a failure. Dagster
# evaluates this policy on the asset's newest materialization of ANY account; the per-account view
# is the `account_freshness` check (defs/freshness.py), which applies the same windows.
FRESHNESS_WARN = timedelta(hours=1)
FRESHNESS_FAIL = timedelta(hours=2)
FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=FRESHNESS_FAIL, warn_window=FRESHNESS_WARN)

# Only errors that may pass (API 5xx/429 after the client's own retries, a lost database
# connection) reach this policy: everything else is raised as Failure(allow_retries=False).
# 20 s, then 40 s, each +/- jitter so accounts that failed together do not retry together.
RETRY_POLICY = dg.RetryPolicy(
    max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def asset_key(spec: StreamSpec) -> dg.AssetKey:
    return dg.AssetKey([GROUP, spec.name])


def _asset_spec(spec: StreamSpec) -> dg.AssetSpec:
    # Lineage is data flow only: a child stream is read through its parent (messages are fetched
    # per conversation). Streams of one account share nothing else; their API work is paced by
    # the account's rate budget in the warehouse, not by ordering the assets.
    table = schema.table(spec.table)
    return dg.AssetSpec(
        key=asset_key(spec),
        deps=[asset_key(spec.parent)] if spec.parent else [],
        description=spec.description,
        group_name=GROUP,
        owners=OWNERS,
        kinds={"python", "postgres"},
        partitions_def=ACCOUNTS,
        freshness_policy=FRESHNESS,
        metadata={
            "dagster/table_name": f"hostaway.{table.name}",
            "dagster/column_schema": table_schema(table),
        },
    )


def _final(exc: Exception) -> dg.Failure:
    """A failure the retry policy must not repeat (raise it `from exc`: the cause names the fix)."""
    return dg.Failure(description=str(exc), allow_retries=False)


def build_sync_asset(spec: StreamSpec) -> dg.AssetsDefinition:
    """One asset per stream; a child stream also materializes its parent (messages + conversations)."""
    specs = [_asset_spec(spec)]
    if spec.parent is not None:
        specs.insert(0, _asset_spec(spec.parent))
    name = spec.asset_name

    @dg.multi_asset(
        name=name, specs=specs, check_specs=check_specs_for(spec), retry_policy=RETRY_POLICY
    )
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
            raise _final(exc) from exc
        with client:
            sync = SyncEngine(
                client, engine, account_id, logger=context.log,
                reverify_every=hostaway.reverify_every,
            )  # fmt: skip
            try:
                report = sync.run(spec, SyncMode(config.mode), config.lookback)
            except (HostawayError, WarehouseError) as exc:
                if exc.retryable:  # API or database briefly unwell; nothing advanced: try again
                    raise
                raise _final(exc) from exc
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


# One asset per standalone catalog entry; nothing here to edit when an entity is added.
SYNC_ASSETS = [build_sync_asset(spec) for spec in streams.STREAMS]
