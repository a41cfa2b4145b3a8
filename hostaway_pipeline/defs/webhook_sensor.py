"""Applying webhook events in Dagster: a job run per account, launched by a sensor every 20 s.

The job is partitioned like the syncs (the account id), so the instance's one-run-per-account
limit (`dagster/partition` in dagster.yaml) also keeps event runs and syncs of one account apart.
The sensor only reads the warehouse (pending events per account) and the instance (runs of this
job not yet finished), so evaluating it from the UI changes nothing.
"""

import dagster as dg

from hostaway_pipeline.account_ids import account_key
from hostaway_pipeline.defs.partitions import ACCOUNTS, partition_account
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.selection import entity_selection
from hostaway_pipeline.warehouse import webhook_events as inbox
from hostaway_pipeline.webhooks.apply import process_account

WEBHOOK_JOB_NAME = "hostaway_webhooks"
SENSOR_INTERVAL_S = 20
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.op(description="Apply the account's pending webhook events to the warehouse.")
def apply_webhook_events(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> dg.Output[None]:
    account_id = partition_account(context.partition_key)
    engine = warehouse.get_engine()
    chosen = entity_selection(hostaway.entities, warehouse.accounts().get(account_id))
    report = process_account(
        engine, account_id, lambda: hostaway.client_for(account_id, warehouse, context.log),
        selected=chosen,
    )  # fmt: skip
    context.log.info(report.summary())
    lag = report.lag()
    return dg.Output(
        None,
        metadata={
            "events_applied": report.applied,
            "duplicates": report.duplicates,
            "stale_skipped": report.stale,
            "ignored": report.ignored,
            "api_requests": report.api_requests,
            "lag_p50_s": dg.MetadataValue.float(lag["p50"]),
            "lag_p95_s": dg.MetadataValue.float(lag["p95"]),
            "lag_max_s": dg.MetadataValue.float(lag["max"]),
        },
    )


@dg.job(
    name=WEBHOOK_JOB_NAME,
    partitions_def=ACCOUNTS,
    executor_def=dg.in_process_executor,
    description="Apply one account's pending webhook events (see hostaway_pipeline/webhooks).",
    tags={"dagster/retry_on_asset_or_op_failure": "false"},
)
def webhook_job() -> None:
    apply_webhook_events()


@dg.sensor(
    job=webhook_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launch a webhook run per account with pending events (none while one is queued).",
)
def webhook_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult:
    with warehouse.get_engine().connect() as conn:
        pending = inbox.pending_accounts(conn)
    known = set(context.instance.get_dynamic_partitions(ACCOUNTS.name or ""))
    requests = []
    for account_id, count in sorted(pending.items()):
        key = account_key(account_id)
        if key not in known:
            continue  # registered since the account sensor's last tick: next time
        busy = context.instance.get_runs(
            filters=dg.RunsFilter(
                job_name=WEBHOOK_JOB_NAME, statuses=UNFINISHED, tags={"dagster/partition": key}
            ),
            limit=1,
        )
        if busy:
            continue
        requests.append(
            dg.RunRequest(
                partition_key=key,
                tags={"hostaway/trigger": "webhooks", "hostaway/pending_events": str(count)},
            )
        )
    return dg.SensorResult(run_requests=requests)
