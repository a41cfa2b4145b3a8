"""The sync job through real Dagster execution, against the sandbox and the real PostgreSQL."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.definitions.dependency import NodeHandle

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog.marts import MARTS
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_asset_ops
from hostaway_pipeline.runs.runner import root_message
from hostaway_pipeline_tests.support.dagster_runs import run
from hostaway_pipeline_tests.support.wiring import Wired, assert_mirrors
from hostaway_sandbox import SandboxServer

pytestmark = pytest.mark.catalog  # syncs every catalog entity

METRIC_KEYS = {
    "records_fetched", "inserted", "updated", "unchanged", "soft_deleted", "skipped",
    "api_requests", "api_retries", "api_429s", "rate_limit_wait_s", "token_source",
    "token_requests", "duration_s", "mode", "watermark_after",
    "dagster/partition_row_count", "dagster/table_name",
}  # fmt: skip
# Omitted rather than sent as a sentinel (-1, "none") when there is nothing to report.
SENTINELS = (-1, "none")


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def test_definitions_load_with_assets_checks_schedules_and_sensors(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert keys == {f"hostaway/{s.name}" for s in streams.CATALOG} | {
        "hostaway/listing_monthly_stats",
        "hostaway/reservation_financials",
    }
    assert {s.name for s in repo.schedule_defs} == {
        "hostaway_incremental_sync",
        "hostaway_full_sync",
        "hostaway_reference_daily",
        "hostaway_instance_cleanup_hourly",
        "hostaway_freshness_check",
    }
    assert "account_sensor" in {s.name for s in repo.sensor_defs}
    checks = {k.name for k in repo.asset_graph.asset_check_keys}
    assert {
        "no_duplicate_records",
        "row_count_matches_api",
        "messages_have_conversations",
        "account_freshness",
    } <= checks


def test_lineage_is_data_flow_only(defs: dg.Definitions) -> None:
    graph = defs.get_repository_def().asset_graph
    parents = {
        k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
        for k in graph.get_all_asset_keys()
    }
    # Children are read through their parent (messages per conversation, calendar days per
    # listing, finance fields per reservation); nothing else orders the entities.
    expected = {
        f"hostaway/{s.name}": ({f"hostaway/{s.parent.name}"} if s.parent else set())
        for s in streams.CATALOG
    }
    money = {"hostaway/reservations", "hostaway/reservation_finance_fields"}
    assert parents == {  # the marts: the tables they read
        **expected,
        "hostaway/listing_monthly_stats": money | {"hostaway/listing_calendar"},
        "hostaway/reservation_financials": money,
    }
    assert parents["hostaway/messages"] == {"hostaway/conversations"}


def test_definitions_carry_schema_code_references_and_a_retry_policy(
    defs: dg.Definitions,
) -> None:
    graph = defs.get_repository_def().asset_graph
    marts = tuple(m.name for m in MARTS)
    for name in ("listings", "reservations", "conversations", "messages", *marts):
        node = graph.get(dg.AssetKey(["hostaway", name]))
        columns = {c.name for c in node.metadata["dagster/column_schema"].columns}
        assert {"account_id", "payload" if name not in marts else "computed_at"} <= columns
        assert node.metadata["dagster/table_name"] == f"hostaway.{name}"
        refs = node.metadata["dagster/code_references"].code_references
        assert refs and all(str(getattr(r, "file_path", "")).endswith(".py") or
                            getattr(r, "url", "").startswith("https://") for r in refs)  # fmt: skip
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    for step in ("hostaway__listings", "hostaway__reservations", "hostaway__messages"):
        policy = job.get_retry_policy_for_handle(NodeHandle(step, None))
        assert policy is not None and policy.max_retries == 2
        assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter == dg.Jitter.PLUS_MINUS


def test_a_failing_entity_does_not_skip_the_others(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    # Hostaway refuses every reservations request (a 403 even after a fresh token): a final error.
    sandbox.faults.queue("403", 50, path="/reservations")
    result = run(defs, instance, account, "full")
    assert not result.success
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failed == {"hostaway__reservations"}
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert not retried  # Failure(allow_retries=False) bypasses the retry policy
    mats = materializations(result)
    assert {"hostaway/listings", "hostaway/conversations", "hostaway/messages"} <= mats.keys()
    assert "hostaway/reservations" not in mats
    # Only what reads reservations waits for them.
    started = {e.step_key for e in result.all_events if e.is_step_start}
    waiting = {
        "hostaway__reservation_details",
        "hostaway__listing_monthly_stats",
        "hostaway__reservation_financials",
    }
    assert started == set(sync_asset_ops()) - waiting
    messages = len(sandbox.state.messages(account))
    assert mats["hostaway/messages"]["dagster/partition_row_count"] == messages


def test_a_failing_entity_does_not_stop_the_others_of_its_step(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    # One finance entity fails for good (a 403 there would mark it unavailable instead:
    # test_entity_availability.py).
    sandbox.faults.queue("400", 50, path="/reservations/paymentMethods")
    result = run(defs, instance, account, "full")
    assert not result.success
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failed == {"hostaway__finance"}  # the step fails, after the others materialized
    mats = materializations(result)
    finance = {f"hostaway/{s.name}" for s in streams.CATALOG if s.area == "finance"}
    assert mats.keys() & finance == finance - {"hostaway/payment_methods"}
    assert "hostaway/reservations" in mats and "hostaway/listing_calendar" in mats


def test_full_then_incremental_sync_records_metrics_mirrors_and_keeps_guests_out_of_logs(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    result = run(defs, instance, account, "full")
    assert result.success
    assert_mirrors(wired.engine, sandbox, account)
    mats = materializations(result)
    for asset in (
        "hostaway/listings",
        "hostaway/reservations",
        "hostaway/conversations",
        "hostaway/messages",
    ):
        assert mats[asset].keys() >= METRIC_KEYS, asset
        assert "dagster/row_count" not in mats[asset]  # the account's rows, not the table's
        assert "watermark_before" not in mats[asset]  # first sync: there was none
        assert not [k for k, v in mats[asset].items() if v in SENTINELS], asset
        assert mats[asset]["mode"] == "full"
    assert mats["hostaway/reservations"]["records_fetched"] == len(
        sandbox.state.reservations(account)
    )
    assert mats["hostaway/messages"]["dagster/partition_row_count"] == len(
        sandbox.state.messages(account)
    )
    assert mats["hostaway/listing_monthly_stats"]["dagster/partition_row_count"] > 0
    checks = result.get_asset_check_evaluations()
    own = [c for c in checks if c.check_name != "account_freshness"]
    assert own and all(c.passed for c in own)
    compared = [
        c for c in own if c.check_name == "row_count_matches_api" and "api_count" in c.metadata
    ]
    assert compared
    for check in compared:  # the comparison in words, live rows first, and its outcome
        live, api = check.metadata["live_rows"].value, check.metadata["api_count"].value
        assert check.description == f"{live} live rows == {api} from the API: holds"
    # The account-wide freshness check is evaluated after the run's materializations: this
    # account is fresh (another registered account may not be: the check names it).
    freshness = [c for c in checks if c.check_name == "account_freshness"]
    assert {c.asset_key for c in freshness} >= {dg.AssetKey(["hostaway", "listings"])}
    assert all(account not in c.metadata["stale_accounts"].value for c in freshness)
    # The metadata and logs of the full run carry no guest personal data (nor the secret).
    reservation = sandbox.state.reservations(account)[0]
    needles = [reservation["guestEmail"], reservation["guestName"], sandbox.state.secret(account)]
    needles += [m["body"] for m in sandbox.state.messages(account)[:3]]
    logs = instance.all_logs(result.run_id)
    text = "\n".join(str(e.dagster_event) + (e.user_message or "") for e in logs)
    for needle in needles:
        assert needle and needle not in text

    sandbox.state.update_reservation(
        account, sandbox.state.reservations(account)[0]["id"], nights=9
    )
    result = run(defs, instance, account, "incremental")
    assert result.success
    mats = materializations(result)
    assert mats["hostaway/reservations"]["updated"] == 1
    assert mats["hostaway/listings"]["token_requests"] == 0  # cached across runs in the warehouse
    assert "watermark_before" in mats["hostaway/reservations"]
    assert_mirrors(wired.engine, sandbox, account)


@pytest.mark.parametrize("state", ["unregistered", "disabled"])
def test_an_unregistered_or_disabled_account_fails_at_once_saying_what_to_do(
    state: str,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    wired: Wired,
    sandbox: SandboxServer,
) -> None:
    account = 4242 if state == "unregistered" else sandbox.state.account_ids()[0]
    if state == "disabled":
        wired.repo.disable(account)
    sandbox.stats.reset()
    result = run(defs, instance, account, "incremental")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = root_message(failure.step_failure_data.error)  # type: ignore[arg-type]
    expected = "accounts add 4242" if state == "unregistered" else f"accounts enable {account}"
    assert str(account) in message and expected in message
    assert sandbox.stats.total == 0  # failed before any API call
