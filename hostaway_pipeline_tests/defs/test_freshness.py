"""Freshness per account, through the freshness job on a real instance and the real warehouse."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from hostaway_pipeline.runs.runner import run_sync
from hostaway_pipeline_tests.support.dagster_runs import (
    account_tick,
    age,
    evaluate,
    registered,
    run_request,
    tick,
)
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer

pytestmark = pytest.mark.catalog  # syncs every catalog entity


def stale_ids(evaluation: dg.AssetCheckEvaluation) -> list[int]:
    return list(evaluation.metadata["stale_accounts"].value)  # type: ignore[arg-type]


def test_each_stale_account_is_named_per_asset_while_fresh_ones_pass(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    synced, never = sandbox.state.account_ids()
    assert [o.success for o in run_sync(defs, instance, [synced], "full")] == [True]

    # Just registered, never synced: within its first sync's grace, named but not stale.
    for name, evaluation in evaluate(defs, instance).items():
        assert evaluation.passed, name
        assert evaluation.metadata["awaiting_first_sync"].value == [never]
        assert f"awaiting their first sync: {never}" in (evaluation.description or "")
    logs = "\n".join(e.user_message for e in instance.all_logs(instance.get_runs()[0].run_id))
    assert "never synced" not in logs  # no ERROR line for a new account

    # Registered 90 min ago: past a hot entity's warn window (1 h), not its fail window (2 h), and
    # within a warm one's (26 h). The asset-level policy would call every asset fresh all along.
    registered(wired, never, timedelta(minutes=90))
    evaluations = evaluate(defs, instance)
    assert stale_ids(evaluations["listings"]) == [never]
    assert evaluations["listings"].severity == dg.AssetCheckSeverity.WARN
    assert evaluations["listing_calendar"].passed
    assert evaluations["listing_calendar"].metadata["awaiting_first_sync"].value == [never]
    registered(wired, never, timedelta(days=16))  # past every fail window (reference: 15 d)
    for name, evaluation in evaluate(defs, instance).items():
        assert not evaluation.passed, name
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert stale_ids(evaluation) == [never]
        assert evaluation.metadata["active_accounts"].value == 2
        assert evaluation.metadata["awaiting_first_sync"].value == []
    logs = "\n".join(e.user_message for e in instance.all_logs(instance.get_runs()[0].run_id))
    assert f"account {never}: listings never synced successfully (registered 384.0 h ago)" in logs

    run_sync(defs, instance, [never], "incremental")
    assert all(e.passed for e in evaluate(defs, instance).values())

    age(wired, synced, "reservations", timedelta(minutes=90))  # past warn (1 h), not fail (2 h)
    age(wired, never, "messages", timedelta(hours=3))
    evaluations = evaluate(defs, instance)
    assert evaluations["listings"].passed
    assert stale_ids(evaluations["reservations"]) == [synced]
    assert evaluations["reservations"].severity == dg.AssetCheckSeverity.WARN
    for name in ("conversations", "messages"):  # both are recorded by the messages sync
        assert stale_ids(evaluations[name]) == [never]
        assert evaluations[name].severity == dg.AssetCheckSeverity.ERROR

    wired.repo.disable(never)  # only active accounts are held to the policy
    assert stale_ids(evaluate(defs, instance)["messages"]) == []


def test_the_failure_alert_names_what_is_stale(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    failures = tick(defs, instance, "record_sync_failure").cursor
    requests, _, _ = account_tick(defs, instance)
    sandbox.faults.queue("403", 50, path="/reservations")
    assert not run_request(defs, instance, requests[0]).success
    tick(defs, instance, "record_sync_failure", failures)

    error = wired.repo.get(account).last_error
    assert error is not None and error.startswith("AuthError")
    stale = error.split("; stale: ", 1)[1].split(", ")
    # What the refused requests kept from syncing (reservations, and what reads them), and
    # nothing that synced.
    assert "reservations never synced successfully" in stale
    assert "reservation_finance_fields never synced successfully" in stale
    assert not [s for s in stale if s.startswith(("listings ", "messages ", "expenses "))]
    assert "listings" not in error.split("; stale:")[1]  # it synced in the same run

    # A new account whose first sync failed has no grace: the check fails at once.
    reservations = evaluate(defs, instance)["reservations"]
    assert account in stale_ids(reservations)
    assert account not in reservations.metadata["awaiting_first_sync"].value  # type: ignore[operator]
    assert reservations.severity == dg.AssetCheckSeverity.ERROR
