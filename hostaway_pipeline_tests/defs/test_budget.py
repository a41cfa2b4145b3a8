"""`hostaway-pipeline budget`: the figures of real Dagster runs against the sandbox, per entity."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from hostaway_pipeline import catalog as streams
from hostaway_pipeline import cli
from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.runs.runner import instance_for, run_sync
from hostaway_pipeline.settings import Settings
from hostaway_pipeline_tests.support.dagster_runs import run
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer

pytestmark = pytest.mark.catalog  # syncs every catalog entity

# Default schedules: incremental every 30 min (48 ticks a day), full once a day at 03:00, when
# the full run covers that minute's incremental tick: 47 incremental runs a day.
INCREMENTAL_RUNS_PER_DAY = 47


def _requests_of(mats: list[dg.AssetMaterialization | None]) -> dict[str, int]:
    out = {}
    for mat in mats:
        if mat is not None and "api_requests" in mat.metadata:
            out[mat.asset_key.path[-1]] = int(mat.metadata["api_requests"].value)  # type: ignore[arg-type]
    return out


def _requests(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    return _requests_of([e.materialization for e in result.get_asset_materialization_events()])


def _budget(
    account: int, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, list[str]], str]:
    capsys.readouterr()
    status = cli.main(["budget", str(account), "--days", "7"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    return status, rows, out


def _number(text: str) -> float:
    return float(text.replace(",", "").rstrip("*"))


def test_budget_shows_the_requests_each_entity_recorded_and_its_projection(
    settings: Settings,
    wired: Wired,
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    instance = instance_for(settings)  # the instance the command reads
    defs = build_definitions(settings)
    account, other = sandbox.state.account_ids()[:2]
    full = run(defs, instance, account, "full")
    assert full.success
    reservation = sandbox.state.reservations(account)[0]["id"]
    sandbox.state.update_reservation(account, reservation, nights=9)
    (outcome,) = run_sync(defs, instance, [account], "incremental")
    assert outcome.success
    records = instance.all_logs(outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    full_cost = _requests(full)
    incr_cost = _requests_of([r.asset_materialization for r in records])
    # the command-line summary counts every entity's requests once
    assert outcome.requests == sum(v for k, v in incr_cost.items() if k != "conversations")

    status, rows, out = _budget(account, capsys)
    assert status == 0, out
    # conversations are listed by the messages step: one report, counted once, under messages
    assert rows["conversations"][3] == "(in"
    assert full_cost["conversations"] == full_cost["messages"]
    for name in full_cost.keys() - {"conversations"}:
        _, cadence, rule, n_full, n_incr, recorded = rows[name][:6]
        spec = streams.by_name(name)
        assert (cadence, rule) == (spec.cadence.value, spec.incremental.value)
        assert _number(recorded) == full_cost[name] + incr_cost.get(name, 0), name
        assert (int(n_full), int(n_incr)) == (1, int(name in incr_cost)), name
        assert _number(rows[name][7]) == full_cost[name], name
    # a hot entity: its recorded full and incremental costs times the schedules' syncs per day
    messages = rows["messages"]
    assert 0 < incr_cost["messages"] < full_cost["messages"]
    assert _number(messages[8]) == incr_cost["messages"]
    assert float(messages[9]) == 1 + INCREMENTAL_RUNS_PER_DAY
    projected = full_cost["messages"] + INCREMENTAL_RUNS_PER_DAY * incr_cost["messages"]
    assert _number(messages[10]) == projected
    ip_per_day = settings.rate_limit_per_ip * 86400 / settings.rate_limit_window_s
    assert float(messages[11]) == round(100 * projected / ip_per_day, 3)
    recorded = sum(v for k, v in full_cost.items() if k != "conversations") + sum(
        v for k, v in incr_cost.items() if k != "conversations"
    )
    assert f"{recorded:,} requests recorded" in out
    limit = f"{settings.rate_limit_per_ip} per {settings.rate_limit_window_s:g} s"
    assert f"per-IP budget ({limit} = {ip_per_day:,.0f}/day)" in out

    # the full-sync rule of each child entity: 35 reservations re-read whole (at most 200)
    n = len(sandbox.state.reservations(account))
    assert f"  reservation_finance_fields: whole of {n} parents ({n} requests per full" in out
    assert "oldest unverified parent 0.0 days" in out

    status, _, out = _budget(other, capsys)
    assert status == 1
    assert f"account {other}: the Dagster instance has no recorded sync of it" in out
    instance.dispose()
