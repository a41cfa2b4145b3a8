"""The quiet-webhooks check: accounts whose webhooks went quiet while polling found their changes.

Such an account is back on the normal incremental cadence already (the schedule applies the same
rule, `webhooks/store/health.py`); this check makes it visible, per account, on the assets the
webhooks feed. It warns (never errors): polling still keeps the account fresh. It is evaluated
with the freshness check, in the same job, so it adds no run of its own.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.defs.entities.assets import asset_key
from hostaway_pipeline.defs.resources import WarehouseResource
from hostaway_pipeline.webhooks.store.health import WebhookHealth, webhook_health

CHECK_NAME = "webhooks_quiet"
# Asset -> which missed changes it reports.
FED = {
    asset_key(streams.RESERVATIONS): "missed_reservations",
    asset_key(streams.MESSAGES): "missed_messages",
}


def _result(
    key: dg.AssetKey, field: str, health: dict[int, WebhookHealth], now: datetime
) -> dg.AssetCheckResult:
    quiet = [h for h in health.values() if getattr(h, field)]
    healthy = [h.account_id for h in health.values() if h.healthy(now)]
    rows = "\n".join(
        f"| {h.account_id} | {h.last_event_at.isoformat(timespec='seconds') if h.last_event_at else 'never'} "
        f"| {getattr(h, field)} |"
        for h in quiet
    )
    what = "reservation changes" if field == "missed_reservations" else "incoming messages"
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=not quiet,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(quiet)} of {len(health)} account(s) with webhooks: quiet while polling found "
            f"{what}: " + ", ".join(str(h.account_id) for h in quiet)
            if quiet
            else f"no missed {what} in {len(health)} account(s) with webhooks"
        ),
        metadata={
            "quiet_accounts": dg.MetadataValue.json([h.account_id for h in quiet]),
            "healthy_accounts": dg.MetadataValue.json(healthy),
            "registered_accounts": len(health),
            "evaluated_at": dg.MetadataValue.timestamp(now),
            **(
                {
                    "quiet": dg.MetadataValue.md(
                        f"| account | last event | missed {what} |\n|---|---|---|\n" + rows
                    )
                }
                if quiet
                else {}
            ),
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            description="Warns naming each account whose registered webhooks went quiet while "
            "polling wrote changes they should have carried (that account is polled at the "
            "normal cadence again until events arrive).",
        )
        for key in FED
    ],
    # The UI (and `dagster asset materialize --select`) puts every check targeting the selected
    # assets into the run: one asset's run must be able to evaluate just its own check.
    can_subset=True,
)
def webhooks_quiet(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    now = datetime.now(UTC)
    active = [a.account_id for a in warehouse.accounts().list_accounts() if a.active]
    health = webhook_health(warehouse.get_engine(), active)
    for item in health.values():
        if item.missed:
            context.log.warning(item.describe(now))
    for key, field in FED.items():
        if dg.AssetCheckKey(key, CHECK_NAME) in context.selected_asset_check_keys:
            yield _result(key, field, health, now)
