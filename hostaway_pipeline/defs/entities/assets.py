"""The sync assets, built from the catalog (`catalog.CATALOG`) by one factory: one step per area.

An entity with no area is a step of its own (listings, reservations, messages with conversations);
entities sharing an area (listing details, reservation details, finance, operations, reference)
are one subsettable step whose assets are skippable: an incremental run materializes only the
entities whose cadence is due, and one entity's failure does not stop the others of its step.
Global lists (reference) are not partitioned: one daily step, stored once under account 0.
"""

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.accounts.repo import AccountError
from hostaway_pipeline.accounts.selection import entity_selection
from hostaway_pipeline.catalog import GLOBAL_ACCOUNT, Cadence, Scope, StreamSpec
from hostaway_pipeline.client.errors import HostawayError
from hostaway_pipeline.defs._support.logs import request_logger
from hostaway_pipeline.defs._support.metadata import run_metadata, table_metadata, table_schema
from hostaway_pipeline.defs._support.tags import TRIGGER_TAG
from hostaway_pipeline.defs.entities.checks import (
    check_results,
    check_specs_for,
    unavailable_events,
)
from hostaway_pipeline.defs.entities.config import SyncConfig
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import (
    Hostaway,
    HostawayResource,
    Warehouse,
    WarehouseResource,
)
from hostaway_pipeline.sync.engine import (
    EntityUnavailableError,
    SyncEngine,
    SyncMode,
    is_due,
    utcnow,
)
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.availability import unavailable
from hostaway_pipeline.warehouse.errors import WarehouseError
from hostaway_pipeline.warehouse.quality import live_row_count
from hostaway_pipeline.webhooks.store.health import webhook_health

_log = logging.getLogger(__name__)
GROUP = "hostaway"
OWNERS = ["team:data-engineering"]
# Incremental syncs run every 30 minutes; two missed ticks is a warning, four a failure (hot
# entities; warm and reference ones follow their cadence, see _WINDOWS).
FRESHNESS_WARN = timedelta(hours=1)
FRESHNESS_FAIL = timedelta(hours=2)

# Only errors that may pass (API 5xx/429 after the client's own retries, a lost database
# connection) reach this policy: everything else is raised as Failure(allow_retries=False).
# 20 s, then 40 s, each +/- jitter so accounts that failed together do not retry together.
RETRY_POLICY = dg.RetryPolicy(
    max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


GLOBAL_GROUP = "hostaway_reference"
# Dagster evaluates freshness on the newest materialization of any partition; the per-account view
# is the `account_freshness` check (defs/accounts/freshness.py). Windows follow the entity's cadence.
_WINDOWS = {
    Cadence.HOT: (FRESHNESS_WARN, FRESHNESS_FAIL),
    Cadence.WARM: (timedelta(hours=26), timedelta(hours=50)),
    Cadence.REFERENCE: (timedelta(days=8), timedelta(days=15)),
}


def freshness_windows(spec: StreamSpec) -> tuple[timedelta, timedelta]:
    """(warn, fail) age of an entity's last sync, from its cadence."""
    return _WINDOWS[spec.cadence]


def freshness_policy(spec: StreamSpec) -> dg.FreshnessPolicy:
    warn, fail = freshness_windows(spec)
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)


def asset_key(spec: StreamSpec) -> dg.AssetKey:
    return dg.AssetKey([GROUP, spec.name])


def _asset_spec(spec: StreamSpec, skippable: bool) -> dg.AssetSpec:
    # Lineage is data flow only: a child stream is read through its parent (messages are fetched
    # per conversation, calendar days per stored listing). Streams of one account share nothing
    # else; their API work is paced by the account's rate budget in the warehouse.
    table = schema.table(spec.table)
    is_global = spec.scope is Scope.GLOBAL
    return dg.AssetSpec(
        key=asset_key(spec),
        deps=[asset_key(spec.parent)] if spec.parent else [],
        description=spec.description,
        group_name=GLOBAL_GROUP if is_global else GROUP,
        owners=OWNERS,
        kinds={"python", "postgres"},
        partitions_def=None if is_global else ACCOUNTS,
        freshness_policy=freshness_policy(spec),
        skippable=skippable,
        tags={"hostaway/cadence": spec.cadence.value},
        metadata={
            "dagster/table_name": f"hostaway.{table.name}",
            "dagster/column_schema": table_schema(table),
        },
    )


def _final(exc: Exception) -> dg.Failure:
    """A failure the retry policy must not repeat (raise it `from exc`: the cause names the fix)."""
    return dg.Failure(description=str(exc), allow_retries=False)


def materialized_by(spec: StreamSpec) -> list[StreamSpec]:
    """The assets one engine run of `spec` materializes: its listed parent too (conversations)."""
    return ([spec.parent] if spec.parent and not spec.parent.standalone else []) + [spec]


def build_sync_asset(name: str, runs: Sequence[StreamSpec]) -> dg.AssetsDefinition:
    """One step syncing `runs` (one engine run each) for one account, or globally."""
    several = len(runs) > 1
    # Skippable and subsettable even alone: an entity the account does not select yields
    # nothing, neither its materialization nor its checks (required outputs otherwise).
    specs = [_asset_spec(s, True) for r in runs for s in materialized_by(r)]
    is_global = runs[0].scope is Scope.GLOBAL

    @dg.multi_asset(
        name=name, specs=specs, check_specs=[c for r in runs for c in check_specs_for(r)],
        can_subset=True, retry_policy=RETRY_POLICY,
    )  # fmt: skip
    def _sync(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        hostaway: HostawayResource,
        warehouse: WarehouseResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult | dg.AssetObservation]:
        if is_global:
            token_account, account_id = global_token_account(warehouse), GLOBAL_ACCOUNT
        else:
            token_account = account_id = partition_account(context.partition_key)
        engine = warehouse.get_engine()
        mode, now = SyncMode(config.mode), utcnow()
        try:  # what the account syncs (selection.py): its own choice, else HOSTAWAY_ENTITIES
            info = None if is_global else warehouse.accounts().get(account_id)
        except AccountError as exc:  # not registered: say what to do, don't retry
            raise _final(exc) from exc
        chosen = entity_selection(hostaway.entities, info)
        # Cadence applies to the runs our schedules, sensors and CLI start (tagged with their
        # trigger) and to a whole-job run (an incremental run of the job syncs what is due). A
        # run that names its assets (the UI's Materialize, a backfill) syncs every one of them:
        # an asset it asked for and left unmaterialized would paint the backfill failed.
        by_cadence = TRIGGER_TAG in context.run.tags or not context.run.asset_selection
        todo = [  # not asked for, not selected, or not due in a triggered incremental run
            spec for spec in runs
            if asset_key(spec) in context.selected_asset_keys and spec.name in chosen
            and (not by_cadence or is_due(engine, account_id, spec, mode, now))
        ]  # fmt: skip
        if not todo:
            _log.debug("nothing of %s is due in this %s run", name, mode.value)  # compute log only
            return
        try:
            client = hostaway.client_for(
                token_account, warehouse, request_logger(context, token_account)
            )
        except AccountError as exc:  # not registered or disabled: say what to do, don't retry
            raise _final(exc) from exc
        failed: list[HostawayError | WarehouseError] = []
        with client:
            sync = SyncEngine(
                client, engine, account_id, logger=context.log,
                reverify_every=_reverify_every(hostaway, engine, account_id, mode, now, todo),
                window_days=hostaway.window_days,
                reread_max_requests=hostaway.reread_max_requests, reconcile=config.reconcile,
            )  # fmt: skip
            refused = sync.unavailable()
            for spec in todo:
                if spec.name in refused and mode is not SyncMode.FULL:  # a full sync retries it
                    yield from _refused(spec, engine, account_id, context.partition_key)
                    continue
                try:
                    report = sync.run(spec, mode, config.lookback)
                except EntityUnavailableError as exc:  # only this entity: the others go on
                    context.log.warning(str(exc))
                    yield from _refused(spec, engine, account_id, context.partition_key)
                    continue
                except (HostawayError, WarehouseError) as exc:
                    if not several and exc.retryable:  # briefly unwell; nothing advanced: again
                        raise
                    if not several:
                        raise _final(exc) from exc
                    context.log.error(f"{spec.name} failed; the step's other entities go on: {exc}")
                    failed.append(exc)
                    continue
                yield from _results(spec, report, engine, account_id)
        if failed:  # after the others materialized: retry only when every failure may pass
            if all(exc.retryable for exc in failed):
                raise failed[0]
            raise _final(failed[0]) from failed[0]

    return _sync


def _reverify_every(
    hostaway: Hostaway,
    engine: sa.Engine,
    account_id: int,
    mode: SyncMode,
    now: datetime,
    todo: list[StreamSpec],
) -> timedelta:
    """The full sync's re-verification period: longer while the account's webhooks are healthy
    (they deliver its messages; sync/covered.py says what is left to re-verification)."""
    if mode is not SyncMode.FULL or not any(s.child_marks for s in todo):
        return hostaway.reverify_every
    health = webhook_health(engine, [account_id]).get(account_id)
    return hostaway.reverify_every_hooked if health and health.healthy(now) else (
        hostaway.reverify_every
    )  # fmt: skip


def _refused(
    spec: StreamSpec, engine: sa.Engine, account_id: int, partition: str
) -> Iterator[dg.AssetCheckResult | dg.AssetObservation]:
    record = unavailable(engine, account_id)[account_id][spec.name]
    yield from unavailable_events(spec, record, partition)


def _results(
    spec: StreamSpec, report: SyncReport, engine: sa.Engine, account_id: int
) -> Iterator[dg.MaterializeResult]:
    shared = run_metadata(report)
    for counts_spec in materialized_by(spec):
        table = schema.table(counts_spec.table)
        live = live_row_count(engine, table, account_id)
        yield dg.MaterializeResult(
            asset_key=asset_key(counts_spec),
            metadata={**shared, **table_metadata(report.table(table.name), table, live)},
            check_results=check_results(counts_spec, report, engine),
        )


def global_token_account(warehouse: Warehouse) -> int:
    """Global lists are the same for every account: fetch them with the lowest active account."""
    usable = [
        a.account_id for a in warehouse.accounts().list_accounts()
        if a.active and not a.credentials_rejected
    ]  # fmt: skip
    if not usable:
        raise dg.Failure(
            description="no active account to fetch the global reference lists with; register "
            "one with `hostaway-pipeline accounts add ID --client-secret-env VAR`",
            allow_retries=False,
        )
    return min(usable)


def sync_steps() -> dict[str, tuple[StreamSpec, ...]]:
    """Step (op) name -> the entities it syncs, in catalog order; derived, never listed by hand."""
    steps: dict[str, list[StreamSpec]] = {}
    for spec in streams.STREAMS:
        steps.setdefault(spec.asset_name, []).append(spec)
    return {name: tuple(specs) for name, specs in steps.items()}


def build_sync_assets() -> list[dg.AssetsDefinition]:
    """Every sync step, from the catalog as it is now; nothing here to edit when an entity is
    added."""
    return [build_sync_asset(name, runs) for name, runs in sync_steps().items()]
