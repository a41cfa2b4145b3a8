"""An account's selection in real runs: what its steps fetch and materialize, and what its
freshness is held to."""

from __future__ import annotations

import dagster as dg
import pytest

from hostaway_pipeline.defs.accounts.freshness import CHECK_NAME, FRESHNESS_JOB_NAME
from hostaway_pipeline.runs.runner import run_sync
from hostaway_pipeline_tests.support.dagster_runs import ACCOUNT_ASSETS, account_tick
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.stats import TOKEN_PATH, endpoint_of

pytestmark = pytest.mark.catalog  # syncs every catalog entity


def test_an_account_selection_limits_its_runs_and_its_freshness(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    narrow, wide = sandbox.state.account_ids()
    wired.repo.set_entities(narrow, ["reservations"])
    outcomes = {o.account_id: o for o in run_sync(defs, instance, [narrow, wide], "full")}
    assert all(o.success for o in outcomes.values())
    assert set(outcomes[narrow].assets) == {"hostaway/reservations"}
    assert set(outcomes[wide].assets) == ACCOUNT_ASSETS
    asked = {
        endpoint_of(r.path)
        for r in sandbox.stats.log
        if r.account_id == narrow and r.path != TOKEN_PATH
    }
    assert asked == {"/v1/reservations"}
    # Both are fully synced as far as they sync: the account sensor asks no first full sync.
    requests, _, skipped = account_tick(defs, instance)
    assert requests == [] and "all in step" in str(skipped)

    result = defs.resolve_job_def(FRESHNESS_JOB_NAME).execute_in_process(instance=instance)
    checks = {
        e.asset_key.path[-1]: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == CHECK_NAME
    }
    # The narrow account never syncs listings: it is not behind on them.
    assert checks["listings"].passed and checks["listings"].metadata["active_accounts"].value == 1
    assert checks["reservations"].metadata["active_accounts"].value == 2
    assert all(c.passed for c in checks.values())
