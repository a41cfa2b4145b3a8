"""The benchmark command runs every scenario end to end (scaled down) and reports each one.

Speed is not asserted here (a loaded CI box would make that flaky); the recorded full run lives in
benchmarks/results/. This proves the command, its subprocesses and its reports keep working.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks import run
from benchmarks.warehouse import drop_database


@pytest.fixture
def bench_db_url(pg_url: str) -> Iterator[str]:
    """A throwaway database beside the test database (the benchmark drops and rebuilds schemas)."""
    name = f"hostaway_bench_smoke_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    yield url
    drop_database(url)


# Scenario 7 (a real dagster-daemon waiting for schedule ticks) is left to `./dev bench --smoke`:
# it alone took 2-3 minutes and pushed `./dev test` past its 12-minute budget.
SMOKE_SCENARIOS = [1, 2, 3, 4, 5, 6]


@pytest.mark.slow  # the longest test of the suite: in `./dev test`, not in `./dev quick`
@pytest.mark.timeout(900)  # sized for a loaded 2-CPU machine; ~3 minutes on a quiet one
def test_smoke_run_completes_every_scenario_and_records_the_results(
    bench_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = ",".join(map(str, SMOKE_SCENARIOS))
    code = run.main(
        ["--smoke", "--scenario", scenarios, "--out", str(tmp_path), "--db-url", bench_db_url]
    )

    recorded = json.loads((tmp_path / "results.json").read_text())["scenarios"]
    errors = {s["id"]: s["error"] for s in recorded if s["error"]}
    assert code == 0 and not errors, errors
    assert [s["id"] for s in recorded] == SMOKE_SCENARIOS
    for scenario in recorded:
        assert scenario["measures"], f"scenario {scenario['id']} reported nothing"
        assert all(m["value"] is not None for m in scenario["measures"])
        assert scenario["meta"]["mode"] == "smoke"
    markdown = (tmp_path / "results.md").read_text()
    assert markdown.startswith("# Benchmark results")
    assert "| 6 |" in capsys.readouterr().out  # the summary table is printed
    by_id = {s["id"]: s for s in recorded}
    # What the scenarios exist to show holds even at smoke scale: one token per account ...
    assert {m["name"]: m["value"] for m in by_id[6]["measures"]}[
        "token requests per account (max)"
    ] == 1
    # ... and an incremental sync that leaves the warehouse equal to the sandbox.
    assert {m["name"]: m["value"] for m in by_id[3]["measures"]}["warehouse matches the sandbox"]


@pytest.mark.slow  # ~30 s: the receiver process, a sync worker and a 6 s event stream
@pytest.mark.timeout(600)
def test_smoke_run_of_the_webhook_scenario_applies_every_event(
    bench_db_url: str, tmp_path: Path
) -> None:
    code = run.main(
        ["--smoke", "--scenario", "8", "--out", str(tmp_path), "--db-url", bench_db_url]
    )
    (scenario,) = json.loads((tmp_path / "results.json").read_text())["scenarios"]
    assert code == 0 and scenario["error"] is None, scenario["error"]
    measures = {m["name"]: m["value"] for m in scenario["measures"]}
    assert measures["API requests per reservation event"] <= 0.2  # a same-second pair: 1 request
    assert measures["receiver events/s at p99 ack < 1 s"] is not None
    (flow,) = [d for d in scenario["details"] if d["part"] == "event stream"]
    assert flow["events"] > 0 and flow["stored"] == flow["events"]  # no loss, no duplicate
    assert flow["outcomes"] == {"applied": flow["events"]} and flow["failed_runs"] == 0
    (costs,) = [d for d in scenario["details"] if d["part"] == "request costs (typical account)"]
    # The hooked safety net: complete reservation events cost nothing to apply, a message event
    # its conversation and reservation rows (2), and the hourly run (without the conversation
    # list) is cheaper than a plain incremental even when that one is quiet.
    assert 0 < costs["requests_applying_events"] <= 2 * 4 * 4 + 4
    assert 0 < costs["relaxed_incremental_max"] < costs["quiet_incremental"]
    assert costs["conversation_sweep"] > 0 and 0 < costs["hooked_full"] <= costs["full"]
