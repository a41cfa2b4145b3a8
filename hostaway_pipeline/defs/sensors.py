"""Sensors: keep partitions in step with the accounts table, and record run outcomes on accounts."""

import json

import dagster as dg

from hostaway_pipeline.defs.config import sync_run_config
from hostaway_pipeline.defs.jobs import SYNC_JOB
from hostaway_pipeline.defs.partitions import ACCOUNTS, ACCOUNTS_NAME
from hostaway_pipeline.defs.resources import WarehouseResource
from hostaway_pipeline.defs.tags import ACCOUNT_TAG, run_tags
from hostaway_pipeline.warehouse.accounts import AccountInfo

AUTH_ERROR_CLASS = "AuthError"


def _full_sync_reason(info: AccountInfo, seen: dict[str, str]) -> tuple[str, str] | None:
    """(reason, marker) when the account needs a full sync it has not been given yet."""
    key = str(info.account_id)
    marker = seen.get(key)
    if marker is None:
        return "first", info.created_at.isoformat()
    if info.resync_requested_at and marker < info.resync_requested_at.isoformat():
        return "resync", info.resync_requested_at.isoformat()
    if info.secret_updated_at and marker < info.secret_updated_at.isoformat():
        return "new-secret", info.secret_updated_at.isoformat()
    return None


@dg.sensor(
    job=SYNC_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition and a full sync for each new active account, deletes the "
    "partitions of removed accounts, and runs a full re-sync when one is requested or a secret "
    "is replaced.",
)
def account_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> dg.SensorResult:
    repo = warehouse.accounts()
    accounts = {str(a.account_id): a for a in repo.list_accounts()}
    partitions = set(context.instance.get_dynamic_partitions(ACCOUNTS_NAME))
    # cursor: account -> ISO time of the newest event (creation, resync, new secret) already served
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    seen = {k: v for k, v in seen.items() if k in accounts}
    requests = []
    for key, info in sorted(accounts.items()):
        reason = _full_sync_reason(info, seen)
        if reason is None or not info.active or info.credentials_rejected:
            continue
        why, marker = reason
        requests.append(
            dg.RunRequest(
                run_key=f"{why}:{key}:{marker}",
                partition_key=key,
                run_config=sync_run_config("full"),
                tags=run_tags(key, "full", trigger=f"account_sensor:{why}"),
            )
        )
        seen[key] = marker
        if info.resync_requested_at is not None:
            repo.clear_resync(info.account_id, before=info.resync_requested_at)
    to_add = sorted(k for k, a in accounts.items() if a.active and k not in partitions)
    to_delete = sorted(partitions - set(accounts))
    partition_requests: list[
        dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest
    ] = []
    if to_add:
        partition_requests.append(ACCOUNTS.build_add_request(to_add))
    if to_delete:
        partition_requests.append(ACCOUNTS.build_delete_request(to_delete))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partition_requests,
        cursor=json.dumps(seen, sort_keys=True),
    )


def _account_of(run: dg.DagsterRun) -> int | None:
    key = run.tags.get(ACCOUNT_TAG) or run.tags.get("dagster/partition")
    return int(key) if key and key.isdigit() else None


@dg.run_failure_sensor(
    monitored_jobs=[SYNC_JOB],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records a failed sync's error on its account; rejected credentials stop its "
    "schedules until the secret is replaced.",
)
def record_sync_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    account_id = _account_of(context.dagster_run)
    if account_id is None:
        return
    failures = context.get_step_failure_events()
    errors = [e.event_specific_data.error for e in failures if e.event_specific_data]  # type: ignore[union-attr]
    rejected = any(err is not None and err.cls_name == AUTH_ERROR_CLASS for err in errors)
    message = next((err.message.strip() for err in errors if err is not None), None)
    message = message or (context.failure_event.message or "run failed")
    repo = warehouse.accounts()
    if account_id in {a.account_id for a in repo.list_accounts()}:
        repo.record_error(account_id, message[:1000], credentials_rejected=rejected)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[SYNC_JOB],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Clears an account's last error once a sync of it succeeds.",
)
def record_sync_success(context: dg.RunStatusSensorContext, warehouse: WarehouseResource) -> None:
    account_id = _account_of(context.dagster_run)
    if account_id is None:
        return
    repo = warehouse.accounts()
    if account_id in {a.account_id for a in repo.list_accounts()}:
        repo.clear_error(account_id)
