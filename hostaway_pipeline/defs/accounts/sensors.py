"""Sensors: keep partitions in step with the accounts table, and record run outcomes on accounts.

The account sensor only reads the warehouse: the UI's "test sensor" evaluates it too, so a side
effect there (say, clearing a resync request) would be lost work. Flags are cleared by the run
status sensors once the run that served them has succeeded. The one exception is webhook
registration (with HOSTAWAY_WEBHOOK_URL set): idempotent, recorded in the warehouse, not in the
cursor, so an extra evaluation loses nothing.
"""

import json
import re
from datetime import UTC, datetime

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from hostaway_pipeline.accounts.ids import AccountIdError, account_key, parse_account_id
from hostaway_pipeline.accounts.repo import AccountInfo
from hostaway_pipeline.accounts.selection import entity_selection
from hostaway_pipeline.catalog import STREAMS, Scope
from hostaway_pipeline.defs._support.tags import run_tags
from hostaway_pipeline.defs.accounts.freshness import STATE_STREAM
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB, SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.assets import freshness_windows
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS, ACCOUNTS_NAME
from hostaway_pipeline.defs.resources import HostawayResource, WarehouseResource
from hostaway_pipeline.egress.routing import egress_tags
from hostaway_pipeline.warehouse.availability import unavailable
from hostaway_pipeline.warehouse.freshness import freshness, fully_synced_at
from hostaway_pipeline.webhooks.autoregister import register_due
from hostaway_pipeline.webhooks.config import RegistrationTarget

AUTH_ERROR_CLASS = "AuthError"
MAX_ERROR_CHARS = 1000


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def full_sync_due(
    info: AccountInfo, served: datetime | None, synced: datetime | None = None
) -> tuple[str, datetime] | None:
    """(why, newest event) when the account has events newer than the last full sync it was given.

    Events: registration, an `accounts resync` request, a replaced secret. `served` is the newest
    event already answered with a run (from the sensor's cursor); `synced` is when the account's
    last full sync of every stream started (the warehouse's sync_state), which also answers
    registration and a new secret when a run the sensor did not request (`hostaway-pipeline
    sync`, the demo) did it. A resync request is answered only by a run that carries it (its
    flag is cleared when that run succeeds).
    """
    events = {
        "first": info.created_at,
        "resync": info.resync_requested_at,
        "new-secret": info.secret_updated_at,
    }
    due = {why: _utc(at) for why, at in events.items() if at is not None}
    due = {why: at for why, at in due.items() if served is None or at > served}
    if synced is not None:
        due = {why: at for why, at in due.items() if why == "resync" or at >= synced}
    if not due:
        return None
    why = "first" if "first" in due else ",".join(sorted(due))
    return why, max(due.values())


def synced_by(warehouse: WarehouseResource, hostaway: HostawayResource) -> dict[int, set[str]]:
    """Account -> the entities it syncs: its selection, less those Hostaway refuses it."""
    refused = unavailable(warehouse.get_engine())
    return {
        a.account_id: set(entity_selection(hostaway.entities, a))
        - set(refused.get(a.account_id, {}))
        for a in warehouse.accounts().list_accounts()
    }


def _load_cursor(cursor: str | None) -> dict[str, datetime]:
    return {k: datetime.fromisoformat(v) for k, v in json.loads(cursor or "{}").items()}


@dg.sensor(
    job=SYNC_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition and a full sync for each new active account, deletes the "
    "partitions of removed accounts, and runs a full re-sync when one is requested or a secret "
    "is replaced; with HOSTAWAY_WEBHOOK_URL set, registers each account's unified webhook.",
)
def account_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> dg.SensorResult:
    accounts = {account_key(a.account_id): a for a in warehouse.accounts().list_accounts()}
    # The account's own entities (global lists are stored once, under account 0, by their job).
    own = [s.name for s in STREAMS if s.scope is Scope.ACCOUNT]
    synced = fully_synced_at(warehouse.get_engine(), own, synced_by(warehouse, hostaway))
    partitions = set(context.instance.get_dynamic_partitions(ACCOUNTS_NAME))
    # cursor: account -> newest event (registration, resync, new secret) already given a full sync
    served = {k: v for k, v in _load_cursor(context.cursor).items() if k in accounts}
    requests, waiting = [], []
    routes = egress_tags(warehouse.get_engine(), list(accounts.values()))  # {}: one machine
    for key, info in sorted(accounts.items()):
        due = full_sync_due(info, served.get(key), synced.get(int(key)))
        if due is None:
            continue
        why, newest = due
        if not info.active or info.credentials_rejected:
            state = "disabled" if not info.active else "its credentials were rejected"
            waiting.append(f"account {key}: full sync ({why}) waits, {state}")
            context.log.info(waiting[-1])
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{why}:{key}:{newest.isoformat()}",
                partition_key=key,
                run_config=sync_run_config("full"),
                tags={
                    **run_tags(key, "full", f"account_sensor:{why}", info.resync_requested_at),
                    **routes.get(info.account_id, {}),
                },
            )
        )
        context.log.info(f"account {key}: full sync ({why})")
        served[key] = newest
    to_add = sorted(k for k, a in accounts.items() if a.active and k not in partitions)
    to_delete = sorted(partitions - set(accounts))
    changes: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if to_add:
        changes.append(ACCOUNTS.build_add_request(to_add))
    if to_delete:
        context.log.info(f"accounts {', '.join(to_delete)} were removed; deleting their partitions")
        changes.append(ACCOUNTS.build_delete_request(to_delete))
    register_webhooks(context, warehouse, hostaway, list(accounts.values()))
    cursor = json.dumps({k: v.isoformat() for k, v in served.items()}, sort_keys=True)
    skip = None
    if not requests and not changes:
        in_step = (
            f"{len(accounts)} account(s), all in step" if accounts else "no accounts registered"
        )
        skip = "; ".join(waiting) or in_step
    return dg.SensorResult(
        run_requests=requests, dynamic_partitions_requests=changes, cursor=cursor, skip_reason=skip
    )


def register_webhooks(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    hostaway: HostawayResource,
    accounts: list[AccountInfo],
) -> None:
    """Register due accounts' webhooks (HOSTAWAY_WEBHOOK_URL); failures are logged, never raised,
    so the tick's run requests (an account's first sync among them) are made regardless."""
    try:
        target = RegistrationTarget.from_env()
        if target is None:
            return
        lines = register_due(
            warehouse.get_engine(),
            accounts,
            target,
            lambda aid: hostaway.client_for(aid, warehouse, logger=context.log),
        )
    except Exception as exc:
        context.log.warning(f"webhook registration skipped this tick: {type(exc).__name__}: {exc}")
        return
    for line in lines:
        (context.log.warning if "failed" in line else context.log.info)(line)


def sync_account(run: dg.DagsterRun) -> int | None:
    """The account a run of the sync job synced (its partition), None for any other run."""
    if run.job_name != SYNC_JOB_NAME:
        return None
    try:
        return parse_account_id(run.tags.get("dagster/partition", ""))
    except AccountIdError:
        return None  # not an account's partition (the step refused it too)


def _chain(error: SerializableErrorInfo | None) -> list[SerializableErrorInfo]:
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause
    return chain


def describe_failure(errors: list[SerializableErrorInfo], fallback: str) -> tuple[str, bool]:
    """(message, credentials rejected) of a failed run, from its step errors' root causes.

    Dagster wraps what the asset raised; the root cause is ours and says what to do next.
    """
    chains = [_chain(error) for error in errors]
    rejected = any(e.cls_name == AUTH_ERROR_CLASS for chain in chains for e in chain)
    roots = [chain[-1] for chain in chains if chain]
    if not roots:
        return fallback, rejected
    root = next((r for r in roots if r.cls_name == AUTH_ERROR_CLASS), roots[0])
    # "hostaway_pipeline.client.errors.AuthError: account ..." -> "AuthError: account ..."
    message = re.sub(
        rf"^[\w.]*\b{re.escape(root.cls_name or '')}:", f"{root.cls_name}:", root.message.strip()
    )
    return message, rejected


def _ended(instance: dg.DagsterInstance, run_id: str) -> float | None:
    record = instance.get_run_record_by_id(run_id)
    return record.end_time if record else None


def ended_later(
    instance: dg.DagsterInstance, run: dg.DagsterRun, status: dg.DagsterRunStatus
) -> bool:
    """Whether a run of the same account with `status` ended after `run` did.

    The two run status sensors keep separate cursors, so after a pause (a daemon restart) one may
    see a failure after the other has seen a later success; the later run decides.
    """
    end = _ended(instance, run.run_id)
    if end is None:
        return False
    later = dg.RunsFilter(
        job_name=SYNC_JOB_NAME,
        statuses=[status],
        tags={"dagster/partition": run.tags["dagster/partition"]},
        updated_after=datetime.fromtimestamp(end, UTC),
    )
    return any((r.end_time or 0) > end for r in instance.get_run_records(later))


@dg.run_failure_sensor(
    monitor_all_code_locations=True,  # also runs of `hostaway-pipeline sync` on this instance
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records a failed sync's error on its account (`accounts list` shows it); "
    "rejected credentials stop its schedules until the secret is replaced.",
)
def record_sync_failure(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> None:
    run = context.dagster_run
    account_id = sync_account(run)
    repo = warehouse.accounts()
    if account_id is None or account_id not in {a.account_id for a in repo.list_accounts()}:
        return
    if ended_later(context.instance, run, dg.DagsterRunStatus.SUCCESS):
        context.log.info(
            f"account {account_id}: run {run.run_id} failed, but a later one succeeded"
        )
        return
    errors = [e.step_failure_data.error for e in context.get_step_failure_events()]
    job_error = getattr(context.failure_event.event_specific_data, "error", None)
    fallback = context.failure_event.message or "run failed"
    message, rejected = describe_failure(
        [e for e in errors if e is not None] or ([job_error] if job_error else []), fallback
    )
    record = context.instance.get_run_record_by_id(run.run_id)
    started = record.start_time if record else None
    replaced = _utc(repo.get(account_id).secret_updated_at).timestamp()
    if rejected and started is not None and started < replaced:
        rejected = False  # the secret it was rejected with has been replaced since
    stale = staleness(warehouse, account_id, synced_by(warehouse, hostaway).get(account_id))
    context.log.info(f"account {account_id}: run {run.run_id} failed: {message}{stale}")
    repo.record_error(
        account_id,
        f"{message[:MAX_ERROR_CHARS]} (run {run.run_id[:8]}){stale}",
        credentials_rejected=rejected,
    )


def staleness(warehouse: WarehouseResource, account_id: int, syncs: set[str] | None = None) -> str:
    """ "; stale: ..." naming the account's streams behind the freshness policy, else ""
    (`syncs`: the entities the account syncs, when not all)."""
    behind = []
    for owner in sorted(set(STATE_STREAM.values()), key=lambda s: s.name):
        if syncs is not None and owner.name not in syncs:
            continue
        warn_after, fail_after = freshness_windows(owner)
        found = freshness(
            warehouse.get_engine(),
            owner.name,
            [account_id],
            warn_after=warn_after,
            fail_after=fail_after,
        ).stale
        behind += [s.describe().split(": ", 1)[1] for s in found]
    return f"; stale: {', '.join(behind)}" if behind else ""


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Clears an account's last error once a sync of it succeeds, and its resync "
    "request once the full sync that served it succeeds.",
)
def record_sync_success(
    context: dg.RunStatusSensorContext, warehouse: WarehouseResource, hostaway: HostawayResource
) -> None:
    run = context.dagster_run
    account_id = sync_account(run)
    repo = warehouse.accounts()
    info = next((a for a in repo.list_accounts() if a.account_id == account_id), None)
    if account_id is None or info is None:
        return
    if not ended_later(context.instance, run, dg.DagsterRunStatus.FAILURE):
        repo.clear_error(account_id)
    # A resync request is served by its effect, never by a tag a launchpad user can type: a full
    # sync of every entity the account syncs, started after the request.
    requested = info.resync_requested_at
    if requested is not None:
        own = [s.name for s in STREAMS if s.scope is Scope.ACCOUNT]
        synced = fully_synced_at(
            warehouse.get_engine(), own, {account_id: synced_by(warehouse, hostaway)[account_id]}
        ).get(account_id)
        if synced is not None and synced >= _utc(requested):
            repo.clear_resync(account_id, before=requested)
