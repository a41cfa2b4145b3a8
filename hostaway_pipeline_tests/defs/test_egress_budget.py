"""`hostaway-pipeline budget --egress`: per egress, the accounts placed on it and their projected
share of its per-IP limit, from real recorded runs; the figures feed the schedules' placement."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostaway_pipeline import cli
from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.egress.store import load_costs
from hostaway_pipeline.runs.budget import account_budget
from hostaway_pipeline.runs.runner import instance_for
from hostaway_pipeline.settings import Settings
from hostaway_pipeline_tests.defs.test_assets import run
from hostaway_pipeline_tests.helpers import Wired
from hostaway_sandbox import SandboxServer


def _lines(out: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}


def test_budget_per_egress_places_and_projects_every_account(
    settings: Settings,
    wired: Wired,
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    instance = instance_for(settings)
    synced, never = sandbox.state.account_ids()[:2]
    defs = build_definitions(settings)
    # A full and an incremental sync: the projection needs each mode's recorded cost.
    assert run(defs, instance, synced, "full").success
    assert run(defs, instance, synced, "incremental").success
    projected = account_budget(instance, settings, synced).projected
    assert projected > 0

    capsys.readouterr()
    assert cli.main(["budget", "--egress", "--egresses", "e1,e2"]) == 0
    out = capsys.readouterr().out
    rows = _lines(out)
    # Equal costs (the unsynced account counts as the mean): one account on each egress.
    assert rows["e1"][1:4] == ["1", f"{projected:,.0f}", rows["e1"][3]]
    assert {rows["e1"][-1], rows["e2"][-1]} == {str(synced), f"{never}*"}
    assert "* no recorded sync in the window" in out
    assert load_costs(wired.engine) == {synced: pytest.approx(projected)}

    # Pinned accounts stay where they are pinned, and are marked.
    wired.repo.set_egress(never, "e1")
    wired.repo.set_egress(synced, "e1")
    capsys.readouterr()
    assert cli.main(["budget", "--egress", "--egresses", "e2"]) == 0
    rows = _lines(capsys.readouterr().out)
    assert rows["e1"][1] == "2" and rows["e2"][1] == "0"
    assert f"{synced}(pinned)" in rows["e1"]

    # An egress projected over its per-IP limit is named, with what to do; exit status 1.
    monkeypatch.setenv("HOSTAWAY_RATE_LIMIT_PER_IP", "1")
    monkeypatch.setenv("HOSTAWAY_RATE_LIMIT_WINDOW_S", "86400")
    capsys.readouterr()
    assert cli.main(["budget", "--egress"]) == 1
    out = capsys.readouterr().out
    assert "egress e1: projected" in out and "is over its per-IP limit (1/day)" in out
    instance.dispose()


def test_budget_needs_an_account_or_egress(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["budget"]) == 2
    assert "give an ACCOUNT_ID, or --egress" in capsys.readouterr().err
