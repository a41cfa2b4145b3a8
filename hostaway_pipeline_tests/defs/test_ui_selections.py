"""Every selection the UI can launch runs: one asset, several, a group, all, with their checks.

The UI's Materialize (asset page, "Materialize selected", "Materialize all") and
`dagster asset materialize --select` put every check that targets the selected assets into the
run, through the implicit asset job. A check over many assets that cannot be subset fails any
selection short of all of them before a step starts (DagsterInvalidSubsetError).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.defs._support.tags import TRIGGER_TAG
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.helpers import Wired
from hostaway_sandbox import SandboxServer

LISTINGS = dg.AssetKey(["hostaway", "listings"])
RESERVATIONS = dg.AssetKey(["hostaway", "reservations"])


def _implicit_job(defs: dg.Definitions) -> dg.JobDefinition:
    return defs.get_repository_def().get_implicit_job_def_for_assets([LISTINGS])  # type: ignore[return-value]


def _live(wired: Wired, table: str, account: int) -> int:
    t = schema.table(table)
    with wired.engine.connect() as conn:
        return int(
            conn.scalar(
                sa.select(sa.func.count()).where(
                    t.c.account_id == account, t.c.deleted_at.is_(None)
                )
            )
            or 0
        )


@pytest.mark.parametrize(
    "selection",
    [{LISTINGS}, {LISTINGS, RESERVATIONS}],
    ids=["one asset", "two assets"],
)
def test_a_ui_selection_with_all_its_checks_runs_and_syncs(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    wired: Wired,
    sandbox: SandboxServer,
    selection: set[dg.AssetKey],
) -> None:
    account = sandbox.state.account_ids()[0]
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    job = _implicit_job(defs)
    # asset_check_selection=None: every check targeting the selected assets, as the UI sends it;
    # the per-account freshness check targets them too.
    subset = job.get_subset(asset_selection=selection, asset_check_selection=None)
    checks = {k for k in subset.asset_layer.asset_graph.asset_check_keys}
    assert dg.AssetCheckKey(LISTINGS, "account_freshness") in checks

    result = subset.execute_in_process(
        instance=instance, partition_key=str(account), raise_on_error=False
    )

    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events() if e.asset_key}
    assert materialized == selection
    evaluated = {e.asset_check_key for e in result.get_asset_check_evaluations()}
    assert dg.AssetCheckKey(LISTINGS, "account_freshness") in evaluated
    # Only the selected assets' freshness checks are evaluated (no results for others).
    assert {k.asset_key for k in evaluated} == selection
    assert _live(wired, "listings", account) == len(sandbox.state.listings(account))


def test_dagster_asset_materialize_one_partition_from_the_cli(
    settings: object, wired: Wired, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """`dagster asset materialize --select hostaway/listings --partition ID`, as a user types it."""
    account = sandbox.state.account_ids()[0]
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.from_config(str(home)) as inst:
        inst.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize", "-m",
         "hostaway_pipeline.definitions", "--select", "hostaway/listings",
         "--partition", str(account)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    assert _live(wired, "listings", account) == len(sandbox.state.listings(account))


@pytest.mark.catalog
def test_a_person_launched_run_syncs_what_it_names_even_when_not_due(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    """The UI's Materialize of a daily entity synced an hour ago materializes it again (a run that
    asked for an asset and left it unmaterialized ends failed, and a backfill paints it red);
    the runs our schedules trigger keep the cadence (their selection is what is due)."""
    account = sandbox.state.account_ids()[0]
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    users = dg.AssetKey(["hostaway", "users"])
    job = _implicit_job(defs)

    def materialized(tags: dict[str, str]) -> set[dg.AssetKey]:
        # As the UI launches it: the run names its assets (run.asset_selection).
        result = job.execute_in_process(
            instance=instance, partition_key=str(account), tags=tags, raise_on_error=False,
            asset_selection=[users],
        )  # fmt: skip
        assert result.success
        return {e.asset_key for e in result.get_asset_materialization_events() if e.asset_key}

    assert materialized({}) == {users}  # first sync
    assert materialized({}) == {users}  # not due (daily), but a person asked for it
    assert materialized({TRIGGER_TAG: "hostaway_incremental"}) == set()  # cadence holds


@pytest.mark.timeout(180)  # without defs/plan_fix.py the run never ends
def test_materialize_all_for_an_account_whose_sync_fails_ends_failed(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    """The UI's Materialize all (every asset, every check) for an account Hostaway refuses: the run
    ends failed, every step settled (skipped or not executed), none waits for ever. In Dagster
    1.13.27 without defs/plan_fix.py, the freshness check's step (over 32 assets, some skipped
    as not due, some behind a failed step) was left pending and the run spun STARTED."""
    account = sandbox.state.account_ids()[0]
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    sandbox.state.rotate_secret(account)  # someone regenerated the key in Hostaway
    sandbox.state.revoke_tokens(account)
    job = _implicit_job(defs)
    everything = job.get_subset(
        asset_selection=set(job.asset_layer.asset_graph.get_all_asset_keys()),
        asset_check_selection=None,
    )

    result = everything.execute_in_process(
        instance=instance, partition_key=str(account), raise_on_error=False,
        run_config=sync_run_config("incremental"),
    )  # fmt: skip

    assert not result.success
    assert not result.get_asset_check_evaluations()
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    assert "hostaway__listings" in failed
    # The freshness check's step was settled (skipped), not left waiting.
    skipped = {e.step_key for e in result.all_events if e.is_step_skipped}
    assert "account_freshness" in skipped
