"""A scheduled incremental run asks only for what is due, and plans no check it will not run."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.accounts.schedules import INCREMENTAL_SCHEDULE
from hostaway_pipeline_tests.support.dagster_runs import run, schedule_tick
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer

pytestmark = pytest.mark.catalog  # syncs every catalog entity


def test_an_incremental_tick_selects_the_due_entities_and_their_checks_only(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    assert run(defs, instance, account, "full").success  # every entity synced just now
    requests = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE, datetime.now(UTC))
    (request,) = [r for r in requests.run_requests or [] if r.partition_key == str(account)]
    selected = {k.to_user_string() for k in request.asset_selection or []}
    hot = {f"hostaway/{s.name}" for s in streams.CATALOG
           if s.cadence is streams.Cadence.HOT and s.scope is streams.Scope.ACCOUNT}  # fmt: skip
    # Hot entities, and the mart whose inputs are all hot; not the daily calendar nor the mart
    # that reads it.
    assert selected == hot | {"hostaway/reservation_financials"}
    assert {c.asset_key.to_user_string() for c in request.asset_check_keys or []} <= selected

    job = defs.resolve_job_def(SYNC_JOB_NAME).get_subset(
        asset_selection=set(request.asset_selection or []),
        asset_check_selection=set(request.asset_check_keys or []),
    )
    result = job.execute_in_process(
        run_config=request.run_config, instance=instance, partition_key=str(account)
    )
    assert result.success
    events = instance.all_logs(result.run_id)
    planned = [e for e in events if e.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED]  # fmt: skip
    done = [e for e in events if e.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    assert planned and len(planned) == len(done)  # every planned check ran
    mats = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert mats == selected
