"""What the browser suite (test_ui_actions.py) presses and reads: the page, its dialogs, and the
runs and backfills the UI launched, as the instance records them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.dagster_run import RunRecord
from dagster_graphql import DagsterGraphQLClient
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.e2e.conftest import ARTIFACTS, Deployment
from hostaway_pipeline_tests.e2e.processes import wait_for
from hostaway_pipeline_tests.e2e.runs import DONE, RUNS_S

SHOTS = ARTIFACTS / "ui-actions"
LISTINGS = dg.AssetKey(["hostaway", "listings"])
RESERVATIONS = dg.AssetKey(["hostaway", "reservations"])
BACKFILL_DONE = {
    BulkActionStatus.COMPLETED,
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}


@dataclass
class UI:
    deployment: Deployment
    accounts: list[str]
    page: Page

    def go(self, path: str) -> None:
        self.page.goto(self.deployment.web_url + path)

    def park(self) -> None:
        """Leave the UI for a blank page while a test waits on the instance: an open UI page
        polls the webserver (and it the instance) every few seconds, which cost the browser and
        the webserver more CPU than the pages the tests read."""
        self.page.goto("about:blank")

    def lineage(self, query: str) -> Locator:
        """The lineage page filtered by `query` (the asset selection syntax); its graph's nodes."""
        self.go("/asset-groups")
        self.page.locator(".CodeMirror").first.click()
        self.page.keyboard.type(query)
        self.page.keyboard.press("Enter")
        self.page.keyboard.press("Escape")
        return self.page.locator("foreignObject")

    def shown(self, locator: Locator, name: str, what: str) -> None:
        """Wait for `locator`; if it never shows, fail with a screenshot `<name>-missing` and
        the text of the graph's nodes (what the page showed instead)."""
        try:
            locator.wait_for()
        except PlaywrightTimeout:
            self.shot(f"{name}-missing")
            nodes = [n.inner_text()[:300] for n in self.page.locator("foreignObject").all()]
            raise AssertionError(f"{what} never showed; the nodes read: {nodes}") from None

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def launch(self, button: str, name: str) -> None:
        """Press the launch dialog's `button`; it must close without an error (on failure the
        screenshot `<name>-refused` and the dialogs' text say what the UI showed)."""
        dialog = self.launch_dialog()
        dialog.get_by_role("button", name=button).click()
        try:
            dialog.wait_for(state="hidden")
        except PlaywrightTimeout:
            self.shot(f"{name}-refused")
            shown = [d.inner_text()[:2000] for d in self.page.get_by_role("dialog").all()]
            raise AssertionError(f"{button!r} did not launch; the UI shows: {shown}") from None
        self.no_error_dialog()
        self.park()

    def no_error_dialog(self) -> None:
        dialogs = [d.inner_text() for d in self.page.get_by_role("dialog").all()]
        assert not [d for d in dialogs if "Error" in d], dialogs

    def launch_dialog(self) -> Locator:
        """The open "Launch runs to materialize ..." dialog (its pickers are dialogs too)."""
        return self.page.get_by_role("dialog").filter(has_text="Launch runs to materialize")

    def pick_partition(self, key: str) -> None:
        """In the launch dialog: open the partition picker, tick `key`, close the picker."""
        dialog = self.launch_dialog()
        dialog.get_by_text("Select a partition or create one").click()
        picker = self.page.locator(".dagster-popover")
        picker.get_by_placeholder("Filter partitions").fill(key)
        # An item's text is the key, twice (the UI measures it for middle truncation).
        item = re.compile(rf"^\s*({re.escape(key)}\s*){{1,2}}$")
        picker.get_by_role("menuitem").filter(has_text=item).click()
        # Close the picker by clicking outside it, on the dialog's title at its top: the
        # "Partition selection" label beside the picker can lie under the open picker (it opens
        # upwards when the window has no room below), which swallows the click.
        dialog.get_by_text(re.compile(r"^Launch runs to materialize")).first.click()
        picker.wait_for(state="hidden")


def _ui_runs(deployment: Deployment, since: float, **tags: str) -> list[RunRecord]:
    filters = dg.RunsFilter(tags=tags)
    records = deployment.instance.get_run_records(filters)
    return sorted(
        (r for r in records if r.create_timestamp.timestamp() >= since),
        key=lambda r: r.create_timestamp,
    )


# Runs the daemon started on its own: a schedule's tick (the incremental sync at :00 and :30)
# or a sensor's may fall inside a test and carry the same partition as the run it launched.
DAEMON_TAGS = ("dagster/schedule_name", "dagster/sensor_name")


def _finished_run(deployment: Deployment, since: float, what: str, **tags: str) -> RunRecord:
    """The one run with `tags` a person (the UI) or the CLI launched since `since`, once done."""

    def launched() -> list[RunRecord]:
        found = _ui_runs(deployment, since, **tags)
        return [r for r in found if not any(t in r.dagster_run.tags for t in DAEMON_TAGS)]

    (record,) = wait_for(
        lambda: (
            (found := launched()) and all(r.dagster_run.status in DONE for r in found) and found
        ),
        RUNS_S,
        what,
    )
    return record


def _materialized(deployment: Deployment, run_id: str) -> set[dg.AssetKey]:
    events = deployment.instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return {
        e.dagster_event.asset_key for e in events if e.dagster_event and e.dagster_event.asset_key
    }


def _listing_field(deployment: Deployment, account: int, listing_id: int, field: str) -> object:
    table = schema.table("listings")
    with deployment.warehouse.connect() as conn:
        payload = conn.scalar(
            sa.select(table.c.payload).where(
                table.c.account_id == account, table.c.id == listing_id
            )
        )
    return payload.get(field) if payload else None


def _launch_backfill(ui: UI, name: str) -> str:
    """Press the open dialog's All + Launch backfill; the backfill's id from the toast."""
    dialog = ui.launch_dialog()
    dialog.get_by_role("button", name="All", exact=True).click()
    ui.shot(f"{name}-dialog")
    dialog.get_by_role("button", name="Launch backfill").click()
    toast = ui.page.get_by_text(re.compile(r"Created backfill \w+"))
    text = toast.first.inner_text()
    ui.no_error_dialog()
    found = re.search(r"Created backfill (\w+)", text)
    assert found, text
    return found.group(1)


def _finished_backfill(ui: UI, backfill_id: str) -> PartitionBackfill:
    ui.park()
    return wait_for(
        lambda: (
            (b := ui.deployment.instance.get_backfill(backfill_id))
            and b.status in BACKFILL_DONE
            and b
        ),
        RUNS_S * 2,
        f"backfill {backfill_id}",
        every_s=2,
    )


def _failed_partitions(deployment: Deployment, key: dg.AssetKey) -> list[str]:
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)
    query = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
      ... on AssetNode { partitionStats { numFailed } } } }"""
    answer = client._execute(query, {"key": {"path": key.path}})
    stats = (answer.get("assetNodeOrError") or {}).get("partitionStats")
    return ["failed"] * stats["numFailed"] if stats and stats["numFailed"] else []
