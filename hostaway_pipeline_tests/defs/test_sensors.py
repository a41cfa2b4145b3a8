"""The sensors as the daemon evaluates them: partitions follow accounts, runs are recorded on them."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster_shared.error import SerializableErrorInfo

from hostaway_pipeline.cli import main as cli_main
from hostaway_pipeline.defs._support.tags import ACCOUNT_TAG, MODE_TAG, RESYNC_TAG, TRIGGER_TAG
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.accounts.schedules import INCREMENTAL_SCHEDULE
from hostaway_pipeline.defs.accounts.sensors import describe_failure
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.runs.runner import run_sync
from hostaway_pipeline_tests.support.dagster_runs import (
    account_tick,
    run_request,
    schedule_tick,
    tick,
)
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer


def partitions(instance: dg.DagsterInstance) -> list[str]:
    return sorted(instance.get_dynamic_partitions(ACCOUNTS_NAME))


def test_new_active_account_gets_a_partition_and_one_full_sync(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired
) -> None:
    accounts = [str(a.account_id) for a in wired.repo.list_accounts()]
    requests, cursor, _ = account_tick(defs, instance)

    assert partitions(instance) == accounts
    assert [r.partition_key for r in requests] == accounts
    for request in requests:
        key = request.partition_key
        assert request.tags[ACCOUNT_TAG] == key
        assert request.tags[MODE_TAG] == "full"
        assert request.tags[TRIGGER_TAG] == "account_sensor:first"
        assert request.run_key is not None and request.run_key.startswith(f"first:{key}:")
        modes = {op["config"]["mode"] for op in request.run_config["ops"].values()}
        assert modes == {"full"}
    assert set(json.loads(cursor or "{}")) == set(accounts)


def test_accounts_synced_by_the_cli_are_not_synced_again(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired
) -> None:
    first, second = (a.account_id for a in wired.repo.list_accounts())
    # `./dev demo` or `hostaway-pipeline sync` synced one account before the daemon ever ran.
    assert [o.success for o in run_sync(defs, instance, [first], "full")] == [True]

    requests, cursor, _ = account_tick(defs, instance)
    assert [r.partition_key for r in requests] == [str(second)]
    assert partitions(instance) == sorted([str(first), str(second)])

    wired.repo.request_resync(first)  # a resync is only answered by a run carrying it
    requests, _, _ = account_tick(defs, instance, cursor)
    assert [(r.partition_key, r.tags[TRIGGER_TAG]) for r in requests] == [
        (str(first), "account_sensor:resync")
    ]


def test_repeated_ticks_request_no_duplicate_runs(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired
) -> None:
    first, cursor, _ = account_tick(defs, instance)
    assert len(first) == 2
    for _ in range(3):
        again, cursor, skip = account_tick(defs, instance, cursor)
        assert again == []
        assert skip == "2 account(s), all in step"
    # Even a lost cursor cannot duplicate a run: the run keys are derived from the accounts' rows.
    replay, _, _ = account_tick(defs, instance, None)
    assert [r.run_key for r in replay] == [r.run_key for r in first]


def test_removed_account_loses_its_partition(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired
) -> None:
    gone, kept = (a.account_id for a in wired.repo.list_accounts())
    _, cursor, _ = account_tick(defs, instance)
    wired.repo.remove(gone)

    requests, cursor, _ = account_tick(defs, instance, cursor)

    assert requests == []
    assert partitions(instance) == [str(kept)]
    assert set(json.loads(cursor or "{}")) == {str(kept)}


def test_resync_request_and_new_secret_each_get_one_full_resync(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    _, cursor, _ = account_tick(defs, instance)

    wired.repo.request_resync(account)
    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert [(r.partition_key, r.tags[TRIGGER_TAG]) for r in requests] == [
        (str(account), "account_sensor:resync")
    ]
    requested_at = wired.repo.get(account).resync_requested_at
    assert requested_at is not None
    assert requests[0].tags[RESYNC_TAG] == requested_at.isoformat()
    # The request stays visible in `accounts list` until the full sync that serves it succeeds.
    assert wired.repo.get(account).resync_requested_at == requested_at
    assert account_tick(defs, instance, cursor)[0] == []

    wired.repo.set_secret(account, sandbox.state.rotate_secret(account))
    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert [(r.partition_key, r.tags[TRIGGER_TAG]) for r in requests] == [
        (str(account), "account_sensor:new-secret")
    ]
    assert requests[0].tags[MODE_TAG] == "full"
    assert account_tick(defs, instance, cursor)[0] == []


def test_disabled_and_rejected_accounts_wait_with_a_reason(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    disabled, rejected = sandbox.state.account_ids()
    wired.repo.disable(disabled)
    wired.repo.record_error(rejected, "AuthError: rejected", credentials_rejected=True)

    requests, cursor, _ = account_tick(defs, instance)
    assert requests == []
    assert partitions(instance) == [str(rejected)]  # active: it has a partition, but no run
    _, cursor, skip = account_tick(defs, instance, cursor)
    assert skip is not None
    assert f"account {disabled}: full sync (first) waits, disabled" in skip
    assert f"account {rejected}: full sync (first) waits, its credentials were rejected" in skip

    wired.repo.enable(disabled)
    wired.repo.set_secret(rejected, sandbox.state.secret(rejected))
    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert {r.partition_key: r.tags[TRIGGER_TAG] for r in requests} == {
        str(disabled): "account_sensor:first",
        str(rejected): "account_sensor:first",
    }
    assert partitions(instance) == sorted([str(disabled), str(rejected)])


def test_rejected_credentials_are_recorded_and_stop_schedules_until_the_secret_is_replaced(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    wired: Wired,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    account, other = sandbox.state.account_ids()
    failures = tick(defs, instance, "record_sync_failure").cursor  # the daemon's first tick
    successes = tick(defs, instance, "record_sync_success").cursor
    requests, cursor, _ = account_tick(defs, instance)
    sandbox.state.rotate_secret(account)  # someone regenerated the key in Hostaway
    sandbox.state.revoke_tokens(account)

    failed = run_request(defs, instance, requests[0])
    assert not failed.success
    failures = tick(defs, instance, "record_sync_failure", failures).cursor

    info = wired.repo.get(account)
    assert info.credentials_rejected
    assert info.last_error is not None and info.last_error_at is not None
    assert info.last_error.startswith(f"AuthError: account {account}: Hostaway rejected")
    assert f"(run {failed.run_id[:8]})" in info.last_error
    assert sandbox.state.secret(account) not in info.last_error
    assert cli_main(["accounts", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{account}  True" in listed and "CREDENTIALS REJECTED" in listed

    data = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)
    assert [r.partition_key for r in data.run_requests or []] == [str(other)]

    wired.repo.set_secret(account, sandbox.state.secret(account))
    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert [r.tags[TRIGGER_TAG] for r in requests] == ["account_sensor:new-secret"]
    assert run_request(defs, instance, requests[0]).success
    tick(defs, instance, "record_sync_success", successes)
    info = wired.repo.get(account)
    assert not info.credentials_rejected and info.last_error is None


def test_a_resync_request_is_cleared_when_its_full_sync_succeeds(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    successes = tick(defs, instance, "record_sync_success").cursor
    _, cursor, _ = account_tick(defs, instance)
    wired.repo.request_resync(account)
    requests, cursor, _ = account_tick(defs, instance, cursor)
    wired.repo.record_error(account, "ServerError: Hostaway kept failing")

    assert run_request(defs, instance, requests[0]).success
    tick(defs, instance, "record_sync_success", successes)

    info = wired.repo.get(account)
    assert info.resync_requested_at is None
    assert info.last_error is None


def test_a_launchpad_tag_cannot_clear_a_resync_request(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    """Anyone at the launchpad can add tags: an incremental run carrying the resync tag, or a full
    run of one asset, does not serve an operator's `accounts resync`; the sensor's full run does."""
    account = sandbox.state.account_ids()[0]
    successes = tick(defs, instance, "record_sync_success").cursor
    requests, cursor, _ = account_tick(defs, instance)
    assert run_request(defs, instance, requests[0]).success  # the first sync
    successes = tick(defs, instance, "record_sync_success", successes).cursor
    wired.repo.request_resync(account)
    requested = wired.repo.get(account).resync_requested_at
    assert requested is not None
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    forged = {RESYNC_TAG: requested.isoformat(), ACCOUNT_TAG: str(account), MODE_TAG: "full"}
    for mode, selection in (
        ("incremental", None),
        ("full", [dg.AssetKey(["hostaway", "listings"])]),
    ):
        ran = job.get_subset(asset_selection=set(selection)) if selection else job
        assert ran.execute_in_process(
            run_config=sync_run_config(mode, only=["listings"] if selection else None),
            instance=instance, partition_key=str(account), tags=forged,
        ).success  # fmt: skip
        successes = tick(defs, instance, "record_sync_success", successes).cursor
        assert wired.repo.get(account).resync_requested_at == requested, mode

    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert [r.tags[TRIGGER_TAG] for r in requests] == ["account_sensor:resync"]
    assert run_request(defs, instance, requests[0]).success
    tick(defs, instance, "record_sync_success", successes)
    assert wired.repo.get(account).resync_requested_at is None


def test_failure_with_an_already_replaced_secret_is_recorded_without_blocking_the_account(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    failures = tick(defs, instance, "record_sync_failure").cursor
    requests, _, _ = account_tick(defs, instance)
    sandbox.state.rotate_secret(account)
    sandbox.state.revoke_tokens(account)
    assert not run_request(defs, instance, requests[0]).success
    # The operator fixed the secret before the (lagging) failure sensor saw the failed run.
    wired.repo.set_secret(account, sandbox.state.secret(account))

    tick(defs, instance, "record_sync_failure", failures)

    info = wired.repo.get(account)
    assert info.last_error is not None and "AuthError" in info.last_error
    assert not info.credentials_rejected


def test_sensors_seeing_runs_out_of_order_leave_the_later_outcome(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    failures = tick(defs, instance, "record_sync_failure").cursor
    successes = tick(defs, instance, "record_sync_success").cursor
    requests, cursor, _ = account_tick(defs, instance)
    sandbox.state.rotate_secret(account)
    sandbox.state.revoke_tokens(account)
    assert not run_request(defs, instance, requests[0]).success
    wired.repo.set_secret(account, sandbox.state.secret(account))
    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert run_request(defs, instance, requests[0]).success

    # After a daemon pause the success sensor happens to go first; the older failure is moot.
    tick(defs, instance, "record_sync_success", successes)
    tick(defs, instance, "record_sync_failure", failures)

    info = wired.repo.get(account)
    assert info.last_error is None and not info.credentials_rejected


def test_runs_of_other_jobs_are_ignored(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    @dg.op
    def boom() -> None:
        raise RuntimeError("not a sync")

    @dg.job(tags={"dagster/partition": str(sandbox.state.account_ids()[0])})
    def other_job() -> None:
        boom()

    failures = tick(defs, instance, "record_sync_failure").cursor
    assert not other_job.execute_in_process(instance=instance, raise_on_error=False).success
    tick(defs, instance, "record_sync_failure", failures)
    assert all(a.last_error is None for a in wired.repo.list_accounts())


def _error(
    cls_name: str, message: str, cause: SerializableErrorInfo | None = None
) -> SerializableErrorInfo:
    return SerializableErrorInfo(message=message, stack=[], cls_name=cls_name, cause=cause)


def test_failure_description_is_the_root_cause_and_detects_rejection() -> None:
    wrapped = _error(
        "DagsterExecutionStepExecutionError",
        'Error occurred while executing op "hostaway__listings":',
        _error("ServerError", "hostaway_pipeline.client.errors.ServerError: account 1: down\n"),
    )
    assert describe_failure([wrapped], "run failed") == ("ServerError: account 1: down", False)
    auth = _error("AuthError", "hostaway_pipeline.client.errors.AuthError: account 1: rejected")
    assert describe_failure([wrapped, auth], "x") == ("AuthError: account 1: rejected", True)
    assert describe_failure([], "run failed") == ("run failed", False)
