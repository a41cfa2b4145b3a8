"""The production deployment as a user sees it: the asset page's metadata, the lineage and the
per-account freshness check, in the webserver's GraphQL and in headless Chromium (skipped when it
is not installed)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import dagster as dg
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.defs._support.tags import TRIGGER_TAG
from hostaway_pipeline.defs.accounts.freshness import CHECK_NAME, FRESHNESS_JOB_NAME
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.e2e.conftest import ARTIFACTS, Deployment
from hostaway_pipeline_tests.e2e.processes import wait_for
from hostaway_pipeline_tests.e2e.runs import DONE, QUEUE_S, RUNS_S, finished, runs

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),
]


Browse = Callable[[str, str, tuple[str, ...]], str]


@pytest.fixture(scope="package")
def browse(deployment: Deployment) -> Iterator[Browse]:
    """Headless Chromium (playwright, Debian's chromium): open a page, wait until it shows every
    one of `texts` (the UI renders after its GraphQL answers), screenshot it into the artifacts,
    return its rendered DOM. One browser for the package: starting Chromium per page cost more
    CPU than the pages."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        # The browser's environment: no secret of the deployment (PATH, HOME, LANG only).
        env = {k: deployment.env[k] for k in ("PATH", "HOME", "LANG")}
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], env=env)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.set_default_timeout(waits.PAGE_MS)

        def browse(url: str, name: str, texts: tuple[str, ...]) -> str:
            page.goto(url)
            for text in texts:
                page.get_by_text(text).first.wait_for(state="attached")
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
            content = page.content()
            # An open UI page polls the webserver (and it the instance) every few seconds: leave
            # it while the tests wait on runs (half the browser's and webserver's CPU otherwise).
            page.goto("about:blank")
            return content

        try:
            yield browse
        finally:
            browser.close()


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
    texts = (key, "Materialized", "Metadata", "records_fetched", "api_requests", "token_source")
    dom = browse(url, "asset-page", texts)
    for text in texts:
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
    # A new account has its warn window's grace before it is stale, unless its sync failed: wait
    # for the sensor's first sync of it to be refused and the failure sensor to record that.
    repo = deployment.repo()
    wait_for(lambda: repo.get(int(STALE_ACCOUNT)).credentials_rejected, RUNS_S, "the rejection")
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
    upstream = ("listing_calendar", "reservation_finance_fields", "reservations")
    graph = browse(url, "asset-graph", upstream)
    for name in upstream:
        assert name in graph, f"{name} is not on the lineage graph of listing_monthly_stats"
    url = f"{deployment.web_url}/assets/hostaway/listings?view=checks&checkDetail={CHECK_NAME}"
    # The check's page: its description and the numeric results plotted per evaluation (the
    # named accounts are asserted above from the evaluation the UI reads).
    texts = (CHECK_NAME, "names the accounts that are behind", "active_accounts")
    dom = browse(url, "freshness", texts)
    for text in texts:
        assert text in dom, f"{text!r} is not on {url}"


# Last in the session's order: every service's log so far, the UI's runs included.
def test_logs_hold_no_client_secret(deployment: Deployment, accounts: list[str]) -> None:
    text = "".join(s.log.read_text(errors="replace") for s in deployment.services)
    for key in accounts:
        assert deployment.sandbox.state.secret(int(key)) not in text
