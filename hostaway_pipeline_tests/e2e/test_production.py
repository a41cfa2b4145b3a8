"""The production shape, end to end: webserver + daemon on PostgreSQL, accounts added by the CLI.

Observed, not mocked: the account sensor adds partitions and launches full syncs, the warehouse
then mirrors the sandbox, the schedule launches incremental syncs, a GraphQL submission runs, runs
of one account never overlap (the instance's queue limit). The UI's side is in
test_production_ui.py; the deployment and the shared fixtures in conftest.py.
"""

from __future__ import annotations

import subprocess
from itertools import pairwise

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorStatus
from dagster_graphql import DagsterGraphQLClient

from hostaway_pipeline.defs._support.tags import MODE_TAG, TRIGGER_TAG
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.accounts.schedules import INCREMENTAL_SCHEDULE
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline_tests.e2e.conftest import BIN, ROOT, Deployment
from hostaway_pipeline_tests.e2e.gate import AccountGate
from hostaway_pipeline_tests.e2e.processes import wait_for
from hostaway_pipeline_tests.e2e.runs import DONE, QUEUE_S, RUNS_S, assert_succeeded, finished, runs
from hostaway_pipeline_tests.support.wiring import assert_mirrors

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),
]


def test_sensor_adds_partitions_and_full_syncs_that_mirror_the_sandbox(
    deployment: Deployment,
    accounts: list[str],
    gate: AccountGate,
    graphql_runs: list[str],  # submitted as soon as the first full sync starts, to queue behind it
) -> None:
    instance = deployment.instance
    wait_for(
        lambda: sorted(instance.get_dynamic_partitions(ACCOUNTS_NAME)) == accounts,
        90,
        "the account sensor to add both partitions",
    )
    first = wait_for(
        lambda: finished(runs(deployment, **{TRIGGER_TAG: "account_sensor:first"})),
        RUNS_S,
        "the sensor's full syncs",
    )
    for service in deployment.services:
        service.remember_descendants()
    assert_succeeded(deployment, first)
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in first) == accounts
    assert {r.dagster_run.tags[MODE_TAG] for r in first} == {"full"}
    # Runs of different accounts are not held back by the one-run-per-account limit: both were
    # in progress at once, each with an answer waiting at the gate at the same moment, and the
    # instance recorded a run of each as STARTED then (proved by what was recorded, not by how
    # soon a loaded machine started the second run worker).
    assert gate.all_held(), dict(gate.held)
    assert sorted(k for k, ids in gate.in_progress.items() if ids) == accounts, gate.in_progress
    for key in accounts:
        assert_mirrors(deployment.warehouse, deployment.sandbox, int(key))
    listed = deployment.cli("accounts", "list")
    assert all(key in listed for key in accounts) and "REJECTED" not in listed


def test_graphql_submissions_succeed_after_the_account_s_running_sync(
    deployment: Deployment, graphql_runs: list[str]
) -> None:
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)

    def statuses() -> list[dg.DagsterRunStatus] | None:
        now = [client.get_run_status(run_id) for run_id in graphql_runs]
        return now if all(status in DONE for status in now) else None

    outcome = wait_for(statuses, RUNS_S, "the GraphQL-submitted runs")
    assert outcome == [dg.DagsterRunStatus.SUCCESS] * 2, deployment.logs()
    records = [deployment.instance.get_run_record_by_id(run_id) for run_id in graphql_runs]
    key = records[0].dagster_run.tags["dagster/partition"]  # type: ignore[union-attr]
    (sensor_run,) = runs(
        deployment, **{TRIGGER_TAG: "account_sensor:first", "dagster/partition": key}
    )
    assert sensor_run.end_time is not None
    for record in records:
        assert record is not None and record.start_time is not None
        # Submitted while the sensor's full sync of the account ran; started only once it ended.
        assert record.create_timestamp.timestamp() < sensor_run.end_time <= record.start_time


def test_schedule_tick_launches_an_incremental_sync(
    deployment: Deployment,
    accounts: list[str],
    graphql_runs: list[str],  # the gate is open once it has run (e2e/gate.py)
) -> None:
    scheduled = wait_for(
        lambda: [
            r
            for r in runs(deployment, **{"dagster/schedule_name": INCREMENTAL_SCHEDULE})
            if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        ],
        RUNS_S,
        "a successful run from the incremental schedule",
    )
    run = scheduled[0].dagster_run
    assert run.tags[MODE_TAG] == "incremental"
    assert run.tags["dagster/partition"] in accounts
    # The tick asked for the account's due entities only (hot ones always; daily ones once a day),
    # and configured exactly their steps.
    ops = run.run_config["ops"]
    assert {"hostaway__listings", "hostaway__reservations", "hostaway__messages"} <= ops.keys()
    assert ops.keys() <= set(sync_run_config("incremental")["ops"])  # type: ignore[arg-type]
    assert all(op["config"]["mode"] == "incremental" for op in ops.values())
    selected = {k.to_user_string() for k in run.asset_selection or []}
    assert {"hostaway/listings", "hostaway/reservations", "hostaway/messages"} <= selected
    # Seen: turn the schedule off, as an operator can in the UI (the same stored state), so its
    # ticks (every minute here) stop starting a run worker per account for the rest of the package.
    (state,) = [
        s
        for s in deployment.instance.all_instigator_state()
        if s.instigator_name == INCREMENTAL_SCHEDULE
    ]
    deployment.instance.update_instigator_state(state.with_status(InstigatorStatus.STOPPED))


@pytest.fixture(scope="package")
def cli_sync(deployment: Deployment, accounts: list[str], graphql_runs: list[str]) -> str:
    """`hostaway-pipeline sync` of the first account while a queued run of it is pending or running."""
    key = accounts[0]
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)
    queued = client.submit_job_execution(
        SYNC_JOB_NAME, run_config=sync_run_config("incremental"), tags={"dagster/partition": key}
    )
    done = subprocess.run(
        [str(BIN / "hostaway-pipeline"), "sync", "--account", key, "--mode", "incremental"],
        env=deployment.env, cwd=ROOT, capture_output=True, text=True, timeout=QUEUE_S,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{deployment.logs()}"
    assert "a dagster-daemon serves the instance" in done.stderr
    status_lines = [line for line in done.stdout.splitlines() if " run " in line]
    assert len(status_lines) == 1 and status_lines[0].split()[0] == key
    assert ": ok;" in status_lines[0]
    return queued


@pytest.mark.timeout(QUEUE_S + 300)
def test_cli_sync_goes_through_the_run_queue(
    deployment: Deployment, accounts: list[str], cli_sync: str
) -> None:
    key = accounts[0]
    (cli_run,) = runs(deployment, **{TRIGGER_TAG: "cli", "dagster/partition": key})
    assert cli_run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert cli_run.dagster_run.tags[MODE_TAG] == "incremental"
    # Queued, then launched by the daemon: the queue records it like any scheduled run.
    queued = deployment.instance.get_records_for_run(
        cli_run.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED
    ).records
    assert queued, "the CLI run never went through the run queue"
    other = deployment.instance.get_run_record_by_id(cli_sync)
    assert other is not None and other.end_time is not None and cli_run.start_time is not None
    assert cli_run.end_time is not None and other.start_time is not None
    # Submitted one after the other for one account: one ran entirely before the other.
    assert other.end_time <= cli_run.start_time or cli_run.end_time <= other.start_time


@pytest.mark.timeout(QUEUE_S + 300)
def test_runs_of_one_account_never_overlap(
    deployment: Deployment, accounts: list[str], graphql_runs: list[str], cli_sync: str
) -> None:
    # The first account had three runs queued at once: its full sync and the two GraphQL runs.
    wait_for(
        lambda: finished([r for r in runs(deployment) if r.dagster_run.run_id in graphql_runs]),
        RUNS_S,
        "the GraphQL-submitted runs",
    )
    for key in accounts:
        records = runs(deployment, **{"dagster/partition": key})
        started = sorted(
            (r for r in records if r.start_time is not None), key=lambda r: r.start_time or 0
        )
        # The first account: its full sync, the two GraphQL runs, a queued run and the CLI's.
        assert len(started) >= (5 if key == accounts[0] else 1), f"account {key}: {len(started)}"
        for before, after in pairwise(started):
            assert after.start_time is not None
            # A run still going (no end time) must be the last one to have started.
            assert before.end_time is not None, f"account {key}: runs overlap"
            assert after.start_time >= before.end_time, f"account {key}: runs overlap"
