"""`hostaway-pipeline sync`: `--mode full` syncs the selected global lists too (once per command,
whatever the number of accounts, reported on a line of their own, counted in the exit status);
`--mode reconcile` prints its request cost, then re-reads every child; `accounts list` shows how
stale the children of unchanged parents may be. Real processes, the sandbox over HTTP, the real
PostgreSQL and real Dagster runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from hostaway_pipeline.warehouse import db, schema
from hostaway_sandbox import SandboxServer

CLI = [sys.executable, "-m", "hostaway_pipeline.cli"]


@pytest.fixture
def env(
    fresh_pg_url: str, secret_key: str, tmp_path: Path, sandbox: SandboxServer
) -> dict[str, str]:
    values = {
        **os.environ,
        "HOSTAWAY_DATABASE_URL": fresh_pg_url,
        "HOSTAWAY_SECRET_KEY": secret_key,
        "HOSTAWAY_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "HOSTAWAY_API_URL": sandbox.url,
        "HOSTAWAY_RATE_LIMIT_WINDOW_S": "1",
        # One per-account entity, and two of the seven global lists.
        "HOSTAWAY_ENTITIES": "listings,amenities,countries",
    }
    for account in sandbox.state.account_ids():
        add = subprocess.run(
            [*CLI, "accounts", "add", str(account), "--client-secret-env", "ACCT_SECRET"],
            env={**values, "ACCT_SECRET": sandbox.state.secret(account)},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
    return values


def _sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "sync", *args], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def _stored(url: str, table: str) -> dict[int, int]:
    """Live rows of `table` per account_id."""
    engine = db.create_engine(url)
    t = schema.table(table)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.account_id, sa.func.count())
            .where(t.c.deleted_at.is_(None))
            .group_by(t.c.account_id)
        )
        out = {r[0]: r[1] for r in rows}
    engine.dispose()
    return out


def test_a_full_sync_of_every_account_fills_the_selected_global_lists_once(
    env: dict[str, str], sandbox: SandboxServer
) -> None:
    accounts = sandbox.state.account_ids()
    assert len(accounts) == 2
    sandbox.stats.reset()
    done = _sync(env, "--all", "--mode", "full")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    amenities = len(sandbox.state.catalog_rows("amenities", accounts[0]))
    assert _stored(env["HOSTAWAY_DATABASE_URL"], "amenities") == {0: amenities}  # stored once
    assert set(_stored(env["HOSTAWAY_DATABASE_URL"], "countries")) == {0}
    assert set(_stored(env["HOSTAWAY_DATABASE_URL"], "listings")) == set(accounts)
    # Fetched once for both accounts; a global list nobody selected is not asked for.
    assert sandbox.stats.count(path_prefix="/v1/amenities") == 1
    assert sandbox.stats.count(path_prefix="/v1/countries") == 1
    assert sandbox.stats.count(path_prefix="/v1/bedTypes") == 0
    runs = [line.split()[0] for line in done.stdout.splitlines() if " run " in line]
    assert sorted(runs) == sorted(["global", *map(str, accounts)])  # one line each
    assert "hostaway/amenities" in done.stdout
    assert "one of the global lists (countries, amenities)" in done.stderr

    sandbox.stats.reset()  # an incremental sync leaves them to their daily schedule
    quiet = _sync(env, "--account", str(accounts[1]))
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert sandbox.stats.count(path_prefix="/v1/amenities") == 0
    assert "global" not in [line.split()[0] for line in quiet.stdout.splitlines() if line]


def test_a_global_list_that_fails_makes_the_command_fail(
    env: dict[str, str], sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    sandbox.faults.queue("400", 50, path="/amenities")  # refused for good: not a passing fault
    done = _sync(env, "--account", str(account), "--mode", "full")
    assert done.returncode == 1, done.stdout
    (failed,) = [line for line in done.stdout.splitlines() if "FAILED" in line]
    assert failed.split()[0] == "global"
    ok = [line for line in done.stdout.splitlines() if " run " in line and ": ok;" in line]
    assert [line.split()[0] for line in ok] == [str(account)]  # the account's run still ran


def test_the_queued_path_creates_a_run_of_the_global_lists_job(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `sync` queues beside the accounts' runs when a daemon serves the instance (the daemon's
    # launching of queued runs is the e2e suite's business: e2e/test_production.py).
    from dagster._core.workspace.context import WorkspaceProcessContext

    from hostaway_pipeline.defs.entities.reference import REFERENCE_JOB_NAME
    from hostaway_pipeline.runs.queue import _create_run, _target
    from hostaway_pipeline.runs.runner import instance_for
    from hostaway_pipeline.settings import Settings

    for name in (
        "HOSTAWAY_DATABASE_URL",
        "HOSTAWAY_SECRET_KEY",
        "HOSTAWAY_HOME",
        "DAGSTER_HOME",
        "HOSTAWAY_API_URL",
        "HOSTAWAY_ENTITIES",
    ):
        monkeypatch.setenv(name, env[name])  # fmt: skip
    with (
        instance_for(Settings.from_env()) as instance,
        WorkspaceProcessContext(instance, _target()) as context,
    ):
        run = _create_run(instance, context, None, "full", 60)
    assert run.job_name == REFERENCE_JOB_NAME and "dagster/partition" not in run.tags
    assert run.tags["hostaway/trigger"] == "cli"
    assert set(run.run_config["ops"]) == {"hostaway__reference"}  # the global lists' step


def test_a_reconcile_prints_its_cost_then_re_reads_every_child(
    env: dict[str, str], sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from hostaway_pipeline.cli import main

    chosen = {
        **env,
        "HOSTAWAY_ENTITIES": "listings,listing_fee_settings",
        "HOSTAWAY_FULL_REREAD_MAX_REQUESTS": "0",
    }  # fees keep the slice, even 7 of them
    for name in (
        "HOSTAWAY_DATABASE_URL",
        "HOSTAWAY_SECRET_KEY",
        "HOSTAWAY_HOME",
        "DAGSTER_HOME",
        "HOSTAWAY_API_URL",
        "HOSTAWAY_RATE_LIMIT_WINDOW_S",
        "HOSTAWAY_ENTITIES",
        "HOSTAWAY_FULL_REREAD_MAX_REQUESTS",
    ):
        monkeypatch.setenv(name, chosen[name])  # fmt: skip
    account = sandbox.state.account_ids()[0]
    listings = len(sandbox.state.listings(account))
    fees = "/v1/listingFeeSettings/"
    assert main(["sync", "--account", str(account), "--mode", "full"]) == 0
    sandbox.stats.reset()
    assert main(["sync", "--account", str(account), "--mode", "full"]) == 0
    assert sandbox.stats.count(path_prefix=fees) == 1  # the nightly slice: a seventh
    capsys.readouterr()
    sandbox.stats.reset()
    assert main(["sync", "--account", str(account), "--mode", "reconcile"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("reconcile: ")  # the cost comes first
    assert out[1] == (
        f"  account {account}: about {listings} requests to re-read every child "
        f"(listing_fee_settings {listings})"
    )
    assert sandbox.stats.count(path_prefix=fees) == listings
    assert main(["accounts", "list"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.split()[0] == str(account)]
    assert line.endswith("oldest_unverified=listing_fee_settings:0.0d")
