"""An endpoint one account may not use: only that entity stops, the credentials stay trusted.

Real Dagster runs (as the sensors request them) against the sandbox, which forbids an endpoint
to one account for as long as the test says (`faults.forbid`: 403 with any valid token).
"""

from __future__ import annotations

import dagster as dg
import pytest

from hostaway_pipeline.cli import main as cli_main
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.runs.runner import format_summary, run_sync
from hostaway_pipeline.warehouse.availability import unavailable
from hostaway_pipeline_tests.support.dagster_runs import (
    ACCOUNT_ASSETS,
    account_tick,
    run_request,
    tick,
)
from hostaway_pipeline_tests.support.wiring import Wired, assert_mirrors
from hostaway_sandbox import SandboxServer

pytestmark = pytest.mark.catalog  # syncs every catalog entity


def incremental(
    defs: dg.Definitions, instance: dg.DagsterInstance, account: int, mode: str = "incremental"
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        run_config=sync_run_config(mode), instance=instance, partition_key=str(account),
        raise_on_error=False,
    )  # fmt: skip


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def availability(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        c.asset_key.path[-1]: c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "entity_available"
    }


def listed(capsys: pytest.CaptureFixture[str], account: int) -> str:
    assert cli_main(["accounts", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return next(line for line in lines if line.split()[0] == str(account))


def test_a_forbidden_endpoint_marks_only_that_entity_unavailable_with_one_token_refresh(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    wired: Wired,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    account, other = sandbox.state.account_ids()
    failures = tick(defs, instance, "record_sync_failure").cursor
    requests, cursor, _ = account_tick(defs, instance)  # first full sync of each account
    sandbox.faults.forbid(account, "/tasks")  # the account's plan has no tasks

    first = {int(r.partition_key or 0): run_request(defs, instance, r) for r in requests}
    tick(defs, instance, "record_sync_failure", failures)
    for result in first.values():
        assert result.success
    # Every other entity of the account synced, and the other account synced everything.
    assert materialized(first[account]) == ACCOUNT_ASSETS - {"hostaway/tasks"}
    assert materialized(first[other]) == ACCOUNT_ASSETS
    assert all(c.passed for c in first[other].get_asset_check_evaluations())
    for aid in (account, other):
        assert_mirrors(wired.engine, sandbox, aid)
    info = wired.repo.get(account)
    assert not info.credentials_rejected and info.last_error is None
    # One refused token, one refresh: the initial token plus exactly one more.
    assert sandbox.stats.token_requests(account) == 2
    assert sandbox.stats.count("/v1/tasks", account_id=account) == 2
    # The run says so: a failed availability check and an observation, with our message only.
    check = availability(first[account])
    assert not check["tasks"].passed
    assert all(c.passed for name, c in check.items() if name != "tasks")
    reason = str(check["tasks"].metadata["reason"].value)
    assert "403 at /tasks" in reason and f"accounts resync {account}" in reason
    assert "not allowed" not in reason  # the API's own text is never stored
    observed = [
        e.event_specific_data.asset_observation  # type: ignore[union-attr]
        for e in first[account].all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert [o.asset_key.path[-1] for o in observed] == ["tasks"]
    assert observed[0].metadata["unavailable"].value is True
    line = listed(capsys, account)
    assert "entities=all unavailable=tasks  polling=normal  " in line and "CREDENTIALS" not in line
    assert "unavailable=none  polling=normal  " in listed(capsys, other)
    since = unavailable(wired.engine, account)[account]["tasks"].since

    # Incremental runs skip it (no request, no refresh) and keep reporting it.
    second = incremental(defs, instance, account)
    assert second.success and "hostaway/tasks" not in materialized(second)
    assert not availability(second)["tasks"].passed
    # A full sync asks again, after a core request proved the token, without a refresh.
    third = incremental(defs, instance, account, "full")
    assert third.success and "hostaway/tasks" not in materialized(third)
    assert sandbox.stats.token_requests(account) == 2
    assert sandbox.stats.count("/v1/tasks", account_id=account) == 3
    assert unavailable(wired.engine, account)[account]["tasks"].since == since

    # Enabled in Hostaway again: `accounts resync` gets a full sync that brings it in.
    sandbox.faults.allow(account)
    assert cli_main(["accounts", "resync", str(account)]) == 0
    requests, cursor, _ = account_tick(defs, instance, cursor)
    assert [r.partition_key for r in requests] == [str(account)]
    fourth = run_request(defs, instance, requests[0])
    assert fourth.success and "hostaway/tasks" in materialized(fourth)
    assert availability(fourth)["tasks"].passed
    assert all(c.passed for c in fourth.get_asset_check_evaluations())  # rows match the API
    assert unavailable(wired.engine, account) == {}
    assert "unavailable=none  polling=normal  " in listed(capsys, account)
    assert sandbox.stats.token_requests(account) == 2


def test_core_endpoints_refused_after_a_refresh_flag_the_credentials_not_an_entity(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    failures = tick(defs, instance, "record_sync_failure").cursor
    requests, _, _ = account_tick(defs, instance)
    # The key lost access to listings: tasks are refused too, but so is the core probe.
    sandbox.faults.forbid(account, "/listings")
    sandbox.faults.forbid(account, "/tasks")
    result = run_request(
        defs, instance, next(r for r in requests if r.partition_key == str(account))
    )
    assert not result.success
    assert {e.step_key for e in result.all_events if e.is_step_failure} == {
        "hostaway__listings", "hostaway__operations",
    }  # fmt: skip
    tick(defs, instance, "record_sync_failure", failures)
    assert wired.repo.get(account).credentials_rejected
    assert unavailable(wired.engine) == {}


def test_a_404_on_a_list_without_a_parent_marks_it_unavailable_without_a_refresh(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    sandbox.faults.forbid(account, "/expenses", status=404)
    # As `hostaway-pipeline sync` runs it: the summary names the unavailable entity and why.
    (outcome,) = run_sync(defs, instance, [account], "full")
    assert outcome.success
    assert "hostaway/expenses" not in outcome.assets and "hostaway/coupons" in outcome.assets
    assert list(outcome.unavailable) == ["hostaway/expenses"]
    assert "404 at /expenses" in outcome.unavailable["hostaway/expenses"]
    assert "UNAVAILABLE: account" in format_summary([outcome])
    assert unavailable(wired.engine, account)[account]["expenses"].status == 404
    assert sandbox.stats.token_requests(account) == 1


def test_a_forbidden_child_entity_costs_one_refresh_though_its_parents_are_asked_in_parallel(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    assert len(sandbox.state.listings(account)) > 4  # more parents than fetch threads
    sandbox.faults.forbid(account, "/listingAgreement")
    (outcome,) = run_sync(defs, instance, [account], "full")
    assert outcome.success and list(outcome.unavailable) == ["hostaway/listing_agreements"]
    assert "hostaway/listing_units" in outcome.assets  # its step's other entities synced
    assert sandbox.stats.token_requests(account) == 2
