"""The Dagster UI pressed as its users press it, in headless Chromium (playwright, Debian's chromium).

A deployment of its own (dagster-webserver and dagster-daemon on PostgreSQL, the sandbox over
HTTP, every catalog entity): each test presses the buttons a person would, waits for the run or
backfill it launched, and asserts it succeeded and the warehouse changed (or the refusal is the
expected one). Screenshots of each step land in test-artifacts/e2e/ui-actions/ (a CI artifact).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.execution.backfill import BulkActionStatus
from dagster_graphql import DagsterGraphQLClient

from hostaway_pipeline.defs._support.tags import TRIGGER_TAG
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.e2e.conftest import deployed
from hostaway_pipeline_tests.e2e.processes import wait_for
from hostaway_pipeline_tests.e2e.runs import DONE, RUNS_S
from hostaway_pipeline_tests.ui.browser import (
    LISTINGS,
    RESERVATIONS,
    UI,
    _failed_partitions,
    _finished_backfill,
    _finished_run,
    _launch_backfill,
    _listing_field,
    _materialized,
    _ui_runs,
)
from hostaway_sandbox import SeedSpec

playwright = pytest.importorskip("playwright.sync_api")

TWO_ASSETS = 'key:"hostaway/listings" or key:"hostaway/reservations"'  # the lineage filter

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),
]


@pytest.fixture(scope="module")
def ui(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UI]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    seed = SeedSpec(accounts=2, listings=3, reservations=8, messages_per_conversation=2)
    home = tmp_path_factory.mktemp("ui-actions")
    with deployed(pg_url, home, "ui_actions", seed, accounts_first=True) as deployment:
        accounts = [str(a) for a in deployment.sandbox.state.account_ids()]
        wait_for(
            lambda: (
                (first := _ui_runs(deployment, 0, **{TRIGGER_TAG: "account_sensor:first"}))
                and len(first) == len(accounts)
                and all(r.dagster_run.status in DONE for r in first)
            ),
            RUNS_S,
            "the sensor's first full syncs",
        )
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(waits.PAGE_MS)
            try:
                yield UI(deployment, accounts, page)
            finally:
                browser.close()


@pytest.fixture(autouse=True)
def parked(ui: UI) -> Iterator[None]:
    """No UI page left open between tests (see UI.park): each test starts on a blank page."""
    yield
    ui.park()


def test_materialize_one_partition_from_the_asset_page(ui: UI) -> None:
    account = int(ui.accounts[1])
    listing = ui.deployment.sandbox.state.listings(account)[0]["id"]
    ui.deployment.sandbox.state.update_listing(account, listing, name="Renamed from the UI test")
    since = time.time()
    ui.go("/assets/hostaway/listings")
    ui.page.get_by_role("button", name="Materialize…").first.click()
    ui.pick_partition(str(account))
    ui.shot("asset-page-materialize-dialog")
    ui.launch("Launch 1 run", "asset-page")

    run = _finished_run(
        ui.deployment, since, "the asset page's run", **{"dagster/partition": str(account)}
    )
    ui.go(f"/runs/{run.dagster_run.run_id}")
    ui.page.get_by_text("RUN_SUCCESS").first.wait_for()
    ui.shot("asset-page-run")
    assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert LISTINGS in _materialized(ui.deployment, run.dagster_run.run_id)
    assert _listing_field(ui.deployment, account, listing, "name") == "Renamed from the UI test"


def test_after_a_normal_sync_the_nodes_show_every_check_passed(ui: UI) -> None:
    """A sync as the operator runs it (the CLI, through the daemon's run queue; the schedules'
    runs are the same job with the same tags): every check of the synced assets is evaluated for
    their latest materialization, the account-wide freshness check included, so the lineage
    nodes read "N / N Passed" and the check's page shows its last evaluation."""
    account = ui.accounts[0]
    since = time.time()
    out = ui.deployment.cli("sync", "--account", account, "--mode", "full")
    assert account in out
    run = _finished_run(ui.deployment, since, "the CLI's sync", **{"dagster/partition": account})
    assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert (
        TRIGGER_TAG in run.dagster_run.tags
    )  # a run our tooling started, not a person's Materialize
    assert LISTINGS in _materialized(ui.deployment, run.dagster_run.run_id)

    passed = ui.lineage(TWO_ASSETS).get_by_text(re.compile(r"^(\d+) / \1 Passed$"))
    ui.shown(passed.nth(1), "normal-sync-checks-passed", "both nodes' 'N / N Passed'")
    ui.shot("normal-sync-checks-passed")
    assert passed.count() == 2

    ui.go("/assets/hostaway/listings?view=checks")
    ui.page.get_by_text("account_freshness").first.click()
    ui.page.get_by_text("Passed").first.wait_for()
    ui.shot("normal-sync-freshness-check")
    assert ui.page.get_by_text("Not evaluated").count() == 0


def test_materialize_selected_two_assets_in_the_lineage_graph(ui: UI) -> None:
    account = ui.accounts[0]
    reservation = ui.deployment.sandbox.state.reservations(int(account))[0]["id"]
    ui.deployment.sandbox.state.update_reservation(int(account), reservation, numberOfGuests=7)
    since = time.time()
    nodes = ui.lineage(TWO_ASSETS)
    nodes.get_by_text("listings", exact=True).click()
    nodes.get_by_text("reservations", exact=True).click(modifiers=["Shift"])
    button = ui.page.get_by_role("button", name="Materialize selected (2)…")
    ui.shot("lineage-two-selected")
    button.click()
    ui.pick_partition(account)
    ui.launch("Launch 1 run", "lineage-two-selected")

    run = _finished_run(
        ui.deployment, since, "the lineage selection's run", **{"dagster/partition": account}
    )
    assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    assert _materialized(ui.deployment, run.dagster_run.run_id) == {LISTINGS, RESERVATIONS}
    table = schema.table("reservations")
    with ui.deployment.warehouse.connect() as conn:
        payload = conn.scalar(
            sa.select(table.c.payload).where(
                table.c.account_id == int(account), table.c.id == reservation
            )
        )
    assert payload["numberOfGuests"] == 7
    # Every check of both assets passed for their latest materialization (the account-wide
    # freshness check included): the nodes read "N / N Passed".
    passed = ui.lineage(TWO_ASSETS).get_by_text(re.compile(r"^(\d+) / \1 Passed$"))
    ui.shown(passed.nth(1), "lineage-two-checks-passed", "both nodes' 'N / N Passed'")
    ui.shot("lineage-two-checks-passed")
    assert passed.count() == 2


@pytest.fixture(scope="module")
def backfills(ui: UI) -> dict[str, str]:
    """The two backfills a person launches for every partition, launched one after the other
    (their ids by name): the partitions page's (one asset) and Materialize all's (every asset).
    The daemon's backfill loop runs every 30 s; launched together, both are served by the same
    iterations instead of each waiting for its own."""
    ui.go("/assets/hostaway/reservations?view=partitions")
    ui.page.get_by_role("button", name="Materialize…").first.click()
    partitions = _launch_backfill(ui, "partitions-page-backfill")
    ui.go("/asset-groups")
    ui.page.get_by_role("button", name="Materialize all…").click()
    everything = _launch_backfill(ui, "materialize-all")
    return {"partitions page": partitions, "materialize all": everything}


def test_backfill_of_both_accounts_from_the_partitions_page(
    ui: UI, backfills: dict[str, str]
) -> None:
    backfill_id = backfills["partitions page"]
    backfill = _finished_backfill(ui, backfill_id)
    ui.go(f"/runs/b/{backfill_id}")
    ui.page.get_by_text(backfill_id).first.wait_for()
    ui.shot("partitions-page-backfill")
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    runs = ui.deployment.instance.get_run_records(
        dg.RunsFilter(tags={"dagster/backfill": backfill_id})
    )
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in runs) == sorted(ui.accounts)
    assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in runs)


def test_materialize_all_ends_a_successful_backfill_with_no_asset_failed(
    ui: UI, backfills: dict[str, str]
) -> None:
    """Every asset (38 entities, the marts, the global lists) of both accounts, in incremental
    mode: entities not due by their cadence are still synced, because a person asked for them."""
    backfill = _finished_backfill(ui, backfills["materialize all"])
    ui.go("/asset-groups")
    ui.page.get_by_role("button", name="Materialize all…").wait_for()
    ui.page.get_by_text("fetching statuses").first.wait_for(state="hidden")
    ui.shot("materialize-all-after")
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    failed = {
        key.to_user_string(): partitions
        for key in ui.deployment.instance.get_asset_keys()
        if (partitions := _failed_partitions(ui.deployment, key))
    }
    assert failed == {}


def test_reexecute_a_failed_run_from_its_page(ui: UI) -> None:
    account = ui.accounts[1]
    ui.deployment.cli("accounts", "disable", account)
    client = DagsterGraphQLClient("127.0.0.1", port_number=ui.deployment.web_port)
    failed_id = client.submit_job_execution(
        SYNC_JOB_NAME,
        run_config=sync_run_config("incremental"),
        tags={"dagster/partition": account},
    )
    status = wait_for(
        lambda: (s := client.get_run_status(failed_id)) in DONE and s, RUNS_S, "the failing run"
    )
    assert status == dg.DagsterRunStatus.FAILURE
    ui.deployment.cli("accounts", "enable", account)
    ui.go(f"/runs/{failed_id}")
    ui.page.get_by_text("is disabled").first.wait_for()  # the error says what to do
    ui.shot("failed-run")
    ui.page.get_by_role("button", name=re.compile(r"^Re-execute all")).click()
    ui.park()
    child = wait_for(
        lambda: (
            (found := _ui_runs(ui.deployment, 0, **{"dagster/parent_run_id": failed_id}))
            and all(r.dagster_run.status in DONE for r in found)
            and found[0]
        ),
        RUNS_S,
        "the re-execution",
    )
    ui.go(f"/runs/{child.dagster_run.run_id}")
    ui.page.get_by_text("RUN_SUCCESS").first.wait_for()
    ui.shot("reexecuted-run")
    assert child.dagster_run.status == dg.DagsterRunStatus.SUCCESS


def test_launchpad_refuses_config_that_would_redirect_the_token(ui: UI) -> None:
    ui.go(f"/locations/hostaway_pipeline/jobs/{SYNC_JOB_NAME}/playground")
    launch = ui.page.get_by_role("button", name="Launch Run")
    launch.wait_for()
    ui.page.locator(".CodeMirror").first.click()
    ui.page.keyboard.press("Control+A")
    ui.page.keyboard.type(
        'resources: {hostaway: {config: {api_url: "http://attacker.example/v1"}}}'
    )
    refusal = ui.page.get_by_text('Received unexpected config entry "api_url"')
    refusal.first.wait_for()
    ui.shot("launchpad-refusal")
    assert launch.is_disabled()


@pytest.mark.parametrize(
    ("kind", "name"),
    [("schedules", "hostaway_full_sync"), ("sensors", "webhook_sensor")],
)
def test_toggle_a_schedule_and_a_sensor(ui: UI, kind: str, name: str) -> None:
    def running() -> bool:
        states = ui.deployment.instance.all_instigator_state()
        (state,) = [s for s in states if s.instigator_name == name]
        return state.is_running

    ui.go(f"/locations/hostaway_pipeline/{kind}/{name}")
    switch = ui.page.locator("input[type=checkbox]").first
    ui.page.get_by_text(name).first.wait_for()
    before = switch.is_checked()
    for expected in (not before, before):
        ui.page.locator(f"label[for='{switch.get_attribute('id')}']").click()
        wait_for(
            lambda e=expected: running() == e, 60, f"{name} to be {'on' if expected else 'off'}"
        )
        # The page follows the instance a moment later: wait for it, do not race it.
        wait_for(lambda e=expected: switch.is_checked() == e, 60, f"the {name} switch to follow")
    ui.shot(f"toggle-{name}")


def test_a_run_s_logs_and_an_asset_s_plots(ui: UI) -> None:
    (run,) = _ui_runs(
        ui.deployment,
        0,
        **{TRIGGER_TAG: "account_sensor:first", "dagster/partition": ui.accounts[0]},
    )
    ui.go(f"/runs/{run.dagster_run.run_id}")
    ui.page.get_by_text("RUN_SUCCESS").first.wait_for()
    ui.page.get_by_text("ASSET_MATERIALIZATION").first.wait_for()
    ui.shot("run-logs")
    ui.go("/assets/hostaway/listings")
    ui.page.get_by_role("button", name="Plots").click()  # the Metadata section's plots
    for title in ("records_fetched", "api_requests", "duration_s"):
        ui.page.get_by_text(title, exact=True).first.wait_for()
    ui.page.get_by_role("button", name="Plots").scroll_into_view_if_needed()
    ui.shot("asset-plots")
