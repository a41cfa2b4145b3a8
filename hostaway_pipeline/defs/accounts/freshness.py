"""Freshness per account: one check per sync asset names every active account that is behind.

Dagster's `FreshnessPolicy` on a partitioned asset looks at the newest materialization of any
partition, so one account that stopped syncing hides behind the others. This check applies the same
windows to every active account's last successful sync (`sync_state` in the warehouse, written
only by a sync that succeeded, whether the daemon, the UI or the CLI ran it). An account whose
webhooks are healthy is polled less often (defs/webhooks/cadence.py), so both of its windows are
wider by that relaxed cadence (the conversation sweep's, for messages): its changes arrive by
webhook meanwhile.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.accounts.selection import entity_selection
from hostaway_pipeline.catalog import Scope, StreamSpec
from hostaway_pipeline.defs.entities.assets import asset_key, freshness_windows
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.defs.webhooks.cadence import SWEPT
from hostaway_pipeline.defs.webhooks.checks import webhooks_quiet
from hostaway_pipeline.warehouse.availability import unavailable
from hostaway_pipeline.warehouse.freshness import Freshness, freshness
from hostaway_pipeline.webhooks.store.health import webhook_health

CHECK_NAME = "account_freshness"
FRESHNESS_JOB_NAME = "hostaway_freshness"
FRESHNESS_SCHEDULE = "hostaway_freshness_check"


def _state_streams() -> dict[dg.AssetKey, StreamSpec]:
    """Asset -> the entity whose sync_state records it (conversations are synced with messages);
    every account-partitioned entity of the catalog."""
    found = {}
    for spec in streams.CATALOG:
        if spec.scope is Scope.GLOBAL:
            continue
        owner = spec if spec.standalone else next(c for c in streams.CATALOG if c.parent is spec)
        found[asset_key(spec)] = owner
    return found


STATE_STREAM = _state_streams()


def _result(
    key: dg.AssetKey,
    found: Freshness,
    active: int,
    now: datetime,
    windows: tuple[timedelta, timedelta],
) -> dg.AssetCheckResult:
    warn_after, fail_after = windows
    stale, waiting = found.stale, found.awaiting_first_sync
    failed = [s for s in stale if s.failed]
    awaiting = (
        f"; {len(waiting)} awaiting their first sync: {', '.join(map(str, waiting))}"
        if waiting
        else ""
    )
    rows = "\n".join(
        f"| {s.account_id} | {s.last_success.isoformat(timespec='seconds') if s.last_success else 'never'} "
        f"| {'fail' if s.failed else 'warn'} |"
        for s in stale
    )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=not stale,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(stale)} of {active} active account(s) stale: "
            + ", ".join(str(s.account_id) for s in stale)
            if stale
            else f"{'all ' if not waiting else ''}{active - len(waiting)} active account(s) "
            f"synced within {warn_after}"
        )
        + awaiting,
        metadata={
            "stale_accounts": dg.MetadataValue.json([s.account_id for s in stale]),
            "failing_accounts": dg.MetadataValue.json([s.account_id for s in failed]),
            "awaiting_first_sync": dg.MetadataValue.json(waiting),
            "active_accounts": active,
            "warn_after_minutes": int(warn_after.total_seconds() // 60),
            "fail_after_minutes": int(fail_after.total_seconds() // 60),
            "evaluated_at": dg.MetadataValue.timestamp(now),
            **(
                {
                    "stale": dg.MetadataValue.md(
                        "| account | last success | level |\n|---|---|---|\n" + rows
                    )
                }
                if stale
                else {}
            ),
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            description="Every active account's last successful sync of this entity is within "
            "its cadence's windows (hot: 1 h warn / 2 h error; warm: 26 h / 50 h; reference: "
            "8 d / 15 d); names the accounts that are behind.",
        )
        for key in STATE_STREAM
    ],
    # The UI (and `dagster asset materialize --select`) puts every check targeting the selected
    # assets into the run: one asset's run must be able to evaluate just its own check.
    can_subset=True,
)
def account_freshness(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> Iterator[dg.AssetCheckResult]:
    engine = warehouse.get_engine()
    accounts = [a for a in warehouse.accounts().list_accounts() if a.active]
    chosen = {a.account_id: entity_selection(hostaway.entities, a) for a in accounts}
    now = datetime.now(UTC)
    ids = [a.account_id for a in accounts]
    relaxed = {a for a, h in webhook_health(engine, ids).items() if h.healthy(now)}
    # A new account is not behind until its first sync has had the warn window, unless it failed.
    pending = {
        a.account_id: a.created_at
        for a in accounts
        if a.last_error is None and not a.credentials_rejected
    }
    refused = unavailable(engine)
    selected = context.selected_asset_check_keys
    for key, owner in STATE_STREAM.items():
        if dg.AssetCheckKey(key, CHECK_NAME) not in selected:
            continue
        warn_after, fail_after = freshness_windows(owner)
        # An account is not behind on an entity it does not sync: not selected, or refused by
        # Hostaway (its `entity_available` check says so).
        active = [
            aid for aid, names in chosen.items()
            if key.path[-1] in names and owner.name not in refused.get(aid, {})
        ]  # fmt: skip
        extra = (
            warehouse.relaxed_conversations
            if owner.name in SWEPT
            else warehouse.relaxed_incremental
        )
        parts = [
            freshness(
                engine,
                owner.name,
                [a for a in active if (a in relaxed) == eased],
                warn_after=warn_after + (extra if eased else timedelta()),
                fail_after=fail_after + (extra if eased else timedelta()),
                now=now,
                pending_since=pending,
            )
            for eased in (False, True)
        ]
        found = Freshness(
            sorted((s for part in parts for s in part.stale), key=lambda s: s.account_id),
            sorted(a for part in parts for a in part.awaiting_first_sync),
        )
        for item in found.stale:
            log = context.log.error if item.failed else context.log.warning
            log(f"{key.to_user_string()}: {item.describe()}")
        yield _result(key, found, len(active), now, (warn_after, fail_after))


FRESHNESS_JOB = dg.define_asset_job(
    FRESHNESS_JOB_NAME,
    # The quiet-webhooks check rides along: same cadence, no run of its own.
    selection=dg.AssetSelection.checks(account_freshness, webhooks_quiet),
    description="Evaluates every active account's freshness per sync asset, and whether its "
    "webhooks went quiet (no API calls).",
)

FRESHNESS_SCHEDULE_DEF = dg.ScheduleDefinition(
    name=FRESHNESS_SCHEDULE,
    job=FRESHNESS_JOB,
    cron_schedule="*/10 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 10 minutes: which accounts are behind, per sync asset, and whose "
    "webhooks went quiet.",
)
