"""The production shape, end to end: webserver + daemon on PostgreSQL, accounts added by the CLI.

Observed, not mocked: the account sensor adds partitions and launches full syncs, the warehouse
then mirrors the sandbox, the schedule launches incremental syncs, a GraphQL submission runs, runs
of one account never overlap (the instance's queue limit), and the UI shows the metadata.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from itertools import pairwise

import dagster as dg
import pytest
import requests
from dagster._core.storage.dagster_run import RunRecord
from dagster_graphql import DagsterGraphQLClient

from hostaway_pipeline.defs.config import sync_run_config
from hostaway_pipeline.defs.freshness import CHECK_NAME, FRESHNESS_JOB_NAME
from hostaway_pipeline.defs.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.partitions import ACCOUNTS_NAME
from hostaway_pipeline.defs.schedules import INCREMENTAL_SCHEDULE
from hostaway_pipeline.defs.tags import MODE_TAG, TRIGGER_TAG
from hostaway_pipeline_tests.e2e.conftest import ARTIFACTS, BIN, ROOT, Deployment
from hostaway_pipeline_tests.e2e.gate import AccountGate
from hostaway_pipeline_tests.e2e.processes import Service, wait_for
from hostaway_pipeline_tests.helpers import assert_mirrors

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),
]

# Waits for runs: a sync run takes 1-3 min on a loaded 2-CPU machine, and one account's runs queue.
RUNS_S = 480
# The CLI's run waits behind every queued run of its account (the schedule adds one a minute here).
QUEUE_S = 1500
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def runs(deployment: Deployment, **tags: str) -> list[RunRecord]:
    """Sync runs with these tags, oldest first."""
    filters = dg.RunsFilter(job_name=SYNC_JOB_NAME, tags=tags)
    return sorted(deployment.instance.get_run_records(filters), key=lambda r: r.create_timestamp)


def finished(records: list[RunRecord]) -> list[RunRecord] | None:
    return records if records and all(r.dagster_run.status in DONE for r in records) else None


def assert_succeeded(deployment: Deployment, records: list[RunRecord]) -> None:
    failed = [
        r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS
    ]
    assert not failed, f"runs failed: {failed}\n{deployment.logs()}"


@pytest.fixture(scope="session")
def gate(deployment: Deployment) -> Iterator[AccountGate]:
    """Holds both accounts' API answers until `graphql_runs` opens it (see e2e/gate.py)."""
    gate = AccountGate(deployment.sandbox, deployment.sandbox.state.account_ids())
    gate.close()
    try:
        yield gate
    finally:
        gate.open()


@pytest.fixture(scope="session")
def accounts(deployment: Deployment, gate: AccountGate) -> list[str]:
    """Both sandbox accounts, registered with the CLI once the daemon runs (no partitions yet)."""
    needed = {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"}
    wait_for(
        lambda: needed <= set(deployment.instance.get_daemon_heartbeats()),
        90,
        "the daemon's sensor, scheduler and run queue heartbeats",
    )
    assert deployment.instance.get_dynamic_partitions(ACCOUNTS_NAME) == []
    keys = []
    for account_id in deployment.sandbox.state.account_ids():
        secret = {"E2E_CLIENT_SECRET": deployment.sandbox.state.secret(account_id)}
        out = deployment.cli("accounts", "add", str(account_id), "--client-secret-env", "E2E_CLIENT_SECRET", env=secret)  # fmt: skip
        assert "registered" in out
        keys.append(str(account_id))
    return keys


@pytest.fixture(scope="session")
def graphql_runs(deployment: Deployment, accounts: list[str], gate: AccountGate) -> list[str]:
    """Two runs of the first account submitted over GraphQL while its first full sync runs.

    Both accounts' first syncs are held at the gate until these are submitted and each sync has
    an answer waiting there (so both are in progress at once); then the gate opens.
    """
    key = accounts[0]
    wait_for(
        lambda: key in deployment.instance.get_dynamic_partitions(ACCOUNTS_NAME),
        90,
        f"the partition of {key}",  # an unknown partition would be queued, then fail
    )
    wait_for(
        lambda: [
            r
            for r in runs(deployment, **{"dagster/partition": key})
            if r.dagster_run.status == dg.DagsterRunStatus.STARTED
        ],
        90,
        f"the sensor's full sync of {key} to start",
        every_s=0.5,
    )
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)
    try:
        # Tagged as the UI tags a partition's run: no hostaway/* tags, only the partition.
        submitted = [
            client.submit_job_execution(
                SYNC_JOB_NAME, run_config=sync_run_config(mode), tags={"dagster/partition": key}
            )
            for mode in ("full", "incremental")
        ]
        wait_for(
            gate.all_held,
            RUNS_S,
            "both accounts' first syncs to be in progress at once (runs of different accounts"
            f" must not queue behind each other); answers held so far: {dict(gate.held)}",
            every_s=0.5,
        )
    finally:
        gate.open()
    return submitted


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
    # in progress at once, each with an answer held at the gate.
    assert gate.all_held(), dict(gate.held)
    a, b = first
    assert a.start_time is not None and b.start_time is not None
    assert a.end_time is not None and b.end_time is not None
    assert max(a.start_time, b.start_time) < min(a.end_time, b.end_time), "ran one after another"
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
    deployment: Deployment, accounts: list[str]
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
    assert run.run_config == sync_run_config("incremental")


@pytest.fixture(scope="session")
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


Browse = Callable[[str, str], str]


@pytest.fixture(scope="session")
def browse(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Browse:
    """Headless Chromium: screenshot a page into the artifacts, then return its rendered DOM."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    profile = tmp_path_factory.mktemp("chromium")
    base = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--window-size=1600,1200",
    ]  # fmt: skip
    browser_env = {k: deployment.env[k] for k in ("PATH", "HOME", "LANG")}  # no secrets
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def run(url: str, *args: str) -> str:
        browser = Service(
            "chromium", [*base, *args, url], browser_env, ARTIFACTS, ARTIFACTS / "chromium.log"
        )
        try:
            browser.popen.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pass
        finally:
            left = browser.stop(grace_s=5)
        assert not left, f"chromium left processes: {left}"
        return browser.log.read_text(errors="replace")

    def browse(url: str, name: str) -> str:
        screenshot = ARTIFACTS / f"{name}.png"
        screenshot.unlink(missing_ok=True)
        run(url, "--screenshot=" + str(screenshot))
        assert screenshot.stat().st_size > 20_000, f"{url} rendered nearly nothing"
        return run(url, "--dump-dom")

    return browse


def test_asset_page_shows_the_partition_s_metadata_in_a_browser(
    deployment: Deployment, accounts: list[str], browse: Browse
) -> None:
    key = accounts[0]
    listings = dg.AssetKey(["hostaway", "listings"])
    wait_for(
        lambda: key in deployment.instance.get_materialized_partitions(listings),
        RUNS_S,
        f"a materialization of hostaway/listings for {key}",
    )
    url = f"{deployment.web_url}/assets/hostaway/listings?partition={key}&view=partitions"
    dom = browse(url, "asset-page")
    for text in (
        key,
        "Materialized",
        "Metadata",
        "records_fetched",
        "api_requests",
        "token_source",
    ):
        assert text in dom, f"{text!r} is not on {url}"


GRAPH_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
STALE_ACCOUNT = "424242"  # registered with a secret Hostaway rejects: it never syncs


@pytest.mark.timeout(QUEUE_S + 300)
def test_ui_shows_true_lineage_and_the_per_account_freshness_check(
    deployment: Deployment, accounts: list[str], request: pytest.FixtureRequest
) -> None:
    answer = requests.post(
        f"{deployment.web_url}/graphql", json={"query": GRAPH_QUERY}, timeout=30
    ).json()
    edges = {
        "/".join(node["assetKey"]["path"]): sorted(
            "/".join(d["path"]) for d in node["dependencyKeys"]
        )
        for node in answer["data"]["assetNodes"]
    }
    assert edges == {
        "hostaway/listings": [],
        "hostaway/reservations": [],
        "hostaway/conversations": [],
        "hostaway/messages": ["hostaway/conversations"],
        "hostaway/listing_monthly_stats": ["hostaway/reservations"],
    }
    # Both accounts synced (fresh) before the stale one is registered.
    wait_for(
        lambda: finished(runs(deployment, **{TRIGGER_TAG: "account_sensor:first"})),
        RUNS_S,
        "the sensor's full syncs",
    )
    secret = {"E2E_CLIENT_SECRET": "not-the-right-secret"}
    deployment.cli("accounts", "add", STALE_ACCOUNT, "--client-secret-env", "E2E_CLIENT_SECRET", env=secret)  # fmt: skip
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)
    run_id = client.submit_job_execution(FRESHNESS_JOB_NAME)
    status = wait_for(
        lambda: (s := client.get_run_status(run_id)) in DONE and s, RUNS_S, "the freshness run"
    )
    assert status == dg.DagsterRunStatus.SUCCESS, deployment.logs()
    # From our run: the schedule's own freshness run may be evaluating at the same time.
    (evaluation,) = [
        e.dagster_event.event_specific_data  # type: ignore[union-attr]
        for e in deployment.instance.all_logs(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        if e.dagster_event.event_specific_data.asset_key.path[-1] == "listings"  # type: ignore[union-attr]
    ]
    assert not evaluation.passed
    assert evaluation.metadata["stale_accounts"].value == [int(STALE_ACCOUNT)]

    browse: Browse = request.getfixturevalue("browse")  # skips here when Chromium is missing
    graph = browse(f"{deployment.web_url}/asset-groups", "asset-graph")  # the global lineage
    for name in ("listings", "reservations", "conversations", "messages", "listing_monthly_stats"):
        assert name in graph, f"{name} is not on the asset graph"
    url = f"{deployment.web_url}/assets/hostaway/listings?view=checks&checkDetail={CHECK_NAME}"
    dom = browse(url, "freshness")
    # The check's page: its description and the numeric results plotted per evaluation (the
    # named accounts are asserted above from the evaluation the UI reads).
    for text in (CHECK_NAME, "names the accounts that are behind", "active_accounts"):
        assert text in dom, f"{text!r} is not on {url}"


def test_logs_hold_no_client_secret(deployment: Deployment, accounts: list[str]) -> None:
    text = "".join(s.log.read_text(errors="replace") for s in deployment.services)
    for key in accounts:
        assert deployment.sandbox.state.secret(int(key)) not in text
