"""Applying webhook events in Dagster: one run per sensor tick for every account with pending events.

Events must not multiply runs (issue 14): a run costs ~3 CPU-s of imports and a few hundred event
log rows whatever it does, and 500 accounts with a trickle of events each would otherwise start
hundreds of runs a minute. So the sensor (every 20 s) requests one run for the accounts with
pending events, in groups of at most MAX_ACCOUNTS_PER_RUN, and each account is its own step
(`apply_webhook_events[<account>]`, a dynamic mapping): per-account metadata, a failing account
fails its step only, and the others are still applied (the run then ends failed, naming it).

One run per account at a time: each run carries its accounts in the ACCOUNTS_TAG tag, and the
sensor leaves out accounts of an unfinished webhook run. Syncs of the same account are not run
beside it either, on a best effort: the sensor leaves out accounts with a sync starting or
running, and each step checks again right before applying (the account is then deferred to a
later tick, its events still pending). The window that remains (a sync launched in the seconds a
step applies) can only let a sync write a row it fetched before an event was applied; that sync's
watermark then stays before the change, so the next poll rewrites it (docs/WEBHOOKS.md).
"""

from collections.abc import Iterator

import dagster as dg

from hostaway_pipeline.accounts.selection import entity_selection
from hostaway_pipeline.defs._support.names import SYNC_JOB_NAME
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.webhooks.apply import process_account
from hostaway_pipeline.webhooks.config import retention_days
from hostaway_pipeline.webhooks.store import events as inbox

WEBHOOK_JOB_NAME = "hostaway_webhooks"
SENSOR_INTERVAL_S = 20
MAX_ACCOUNTS_PER_RUN = 25
ACCOUNTS_TAG = "hostaway/accounts"  # "101,102,...": the accounts a webhook run applies
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
SYNCING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


class BatchConfig(dg.Config):
    account_ids: list[int]


def syncing_accounts(instance: dg.DagsterInstance, among: set[int] | None = None) -> set[int]:
    """Accounts with a sync run starting or running."""
    runs = instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB_NAME, statuses=SYNCING))
    keys = {run.tags.get("dagster/partition", "") for run in runs}
    found = {int(k) for k in keys if k.isdigit()}
    return found if among is None else found & among


def busy_accounts(instance: dg.DagsterInstance) -> set[int]:
    """Accounts of webhook runs not finished yet, and accounts being synced."""
    runs = instance.get_runs(dg.RunsFilter(job_name=WEBHOOK_JOB_NAME, statuses=UNFINISHED))
    busy = {int(a) for run in runs for a in run.tags.get(ACCOUNTS_TAG, "").split(",") if a}
    return busy | syncing_accounts(instance)


@dg.op(out=dg.DynamicOut(int), description="One output per account of the batch.")
def webhook_batch(config: BatchConfig) -> Iterator[dg.DynamicOutput[int]]:
    for account_id in sorted(set(config.account_ids)):
        yield dg.DynamicOutput(account_id, mapping_key=str(account_id))


@dg.op(description="Apply one account's pending webhook events to the warehouse.")
def apply_webhook_events(
    context: dg.OpExecutionContext,
    account_id: int,
    warehouse: WarehouseResource,
    hostaway: HostawayResource,
) -> dg.Output[None]:
    if syncing_accounts(context.instance, {account_id}):
        context.log.info(
            f"account {account_id}: a sync is running; its events wait for a later tick"
        )
        return dg.Output(None, metadata={"account_id": account_id, "deferred": True})
    engine = warehouse.get_engine()
    chosen = entity_selection(hostaway.entities, warehouse.accounts().get(account_id))
    report = process_account(
        engine, account_id, lambda: hostaway.client_for(account_id, warehouse, context.log),
        selected=chosen, retention_days=retention_days(),
    )  # fmt: skip
    context.log.info(report.summary())
    lag = report.lag()
    return dg.Output(
        None,
        metadata={
            "account_id": account_id,
            "deferred": False,
            "events_applied": report.applied,
            "duplicates": report.duplicates,
            "stale_skipped": report.stale,
            "ignored": report.ignored,
            "gone": report.gone,
            "verified": sum(report.verified.values()),
            "api_requests": report.api_requests,
            "pruned": report.pruned,
            "lag_p50_s": dg.MetadataValue.float(lag["p50"]),
            "lag_p95_s": dg.MetadataValue.float(lag["p95"]),
            "lag_max_s": dg.MetadataValue.float(lag["max"]),
        },
    )


@dg.job(
    name=WEBHOOK_JOB_NAME,
    executor_def=dg.in_process_executor,
    description="Apply pending webhook events of a batch of accounts, one step per account "
    "(see hostaway_pipeline/webhooks).",
    tags={"dagster/retry_on_asset_or_op_failure": "false"},
)
def webhook_job() -> None:
    webhook_batch().map(apply_webhook_events)


def batch_run_config(account_ids: list[int]) -> dict[str, object]:
    return {"ops": {"webhook_batch": {"config": {"account_ids": account_ids}}}}


@dg.sensor(
    job=webhook_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launch one run for the accounts with pending webhook events (groups of at most "
    f"{MAX_ACCOUNTS_PER_RUN}), leaving out accounts already in an unfinished run or syncing.",
)
def webhook_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult | dg.SkipReason:
    with warehouse.get_engine().connect() as conn:
        pending = inbox.pending_accounts(conn)
    if not pending:
        return dg.SkipReason("no pending webhook events")
    busy = busy_accounts(context.instance)
    ready = [a for a in sorted(pending) if a not in busy]
    if not ready:
        return dg.SkipReason(f"{len(pending)} account(s) with pending events, all busy")
    requests = []
    for start in range(0, len(ready), MAX_ACCOUNTS_PER_RUN):
        group = ready[start : start + MAX_ACCOUNTS_PER_RUN]
        requests.append(
            dg.RunRequest(
                run_config=batch_run_config(group),
                tags={
                    ACCOUNTS_TAG: ",".join(map(str, group)),
                    "hostaway/trigger": "webhooks",
                    "hostaway/pending_events": str(sum(pending[a] for a in group)),
                },
            )
        )
    return dg.SensorResult(run_requests=requests)
