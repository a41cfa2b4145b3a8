"""The production deployment as a user sees it: the asset page's metadata, the lineage and the
per-account freshness check, in the webserver's GraphQL and in headless Chromium (skipped when it
is not installed)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import dagster as dg
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.defs._support.tags import TRIGGER_TAG
from hostaway_pipeline.defs.accounts.freshness import CHECK_NAME, FRESHNESS_JOB_NAME
from hostaway_pipeline_tests.e2e.conftest import ARTIFACTS, Deployment
from hostaway_pipeline_tests.e2e.processes import Service, wait_for
from hostaway_pipeline_tests.e2e.runs import DONE, QUEUE_S, RUNS_S, finished, runs

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),
]


Browse = Callable[[str, str], str]


@pytest.fixture(autouse=True)
def _first_syncs_released(graphql_runs: list[str]) -> None:
    """The accounts' first syncs wait at the sandbox's gate until `graphql_runs` has seen them
    run at once (e2e/gate.py). These tests need them done, so they ask for that fixture too:
    whichever e2e file a pytest-xdist worker runs first, the gate opens."""


@pytest.fixture(scope="package")
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
    # Children are read through their parent; the marts read the tables they name.
    expected = {
        f"hostaway/{s.name}": [f"hostaway/{s.parent.name}"] if s.parent else []
        for s in streams.CATALOG
    }
    money = ["hostaway/reservation_finance_fields", "hostaway/reservations"]
    assert edges == {
        **expected,
        "hostaway/listing_monthly_stats": sorted([*money, "hostaway/listing_calendar"]),
        "hostaway/reservation_financials": money,
    }
    assert edges["hostaway/messages"] == ["hostaway/conversations"]
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
    # With 40 assets the global graph shows its groups folded: read a mart's upstream lineage.
    url = f"{deployment.web_url}/assets/hostaway/listing_monthly_stats?view=lineage&lineageScope=upstream"
    graph = browse(url, "asset-graph")
    for name in ("listing_calendar", "reservation_finance_fields", "reservations"):
        assert name in graph, f"{name} is not on the lineage graph of listing_monthly_stats"
    url = f"{deployment.web_url}/assets/hostaway/listings?view=checks&checkDetail={CHECK_NAME}"
    dom = browse(url, "freshness")
    # The check's page: its description and the numeric results plotted per evaluation (the
    # named accounts are asserted above from the evaluation the UI reads).
    for text in (CHECK_NAME, "names the accounts that are behind", "active_accounts"):
        assert text in dom, f"{text!r} is not on {url}"


# Last in the session's order: every service's log so far, the UI's runs included.
def test_logs_hold_no_client_secret(deployment: Deployment, accounts: list[str]) -> None:
    text = "".join(s.log.read_text(errors="replace") for s in deployment.services)
    for key in accounts:
        assert deployment.sandbox.state.secret(int(key)) not in text
