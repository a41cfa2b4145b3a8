"""The webhook sensor and job, really executed: pending events of every account -> one batch run
-> one step per account (its own metadata; a failing account does not stop the others)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest
import requests
import sqlalchemy as sa
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from hostaway_pipeline.defs.webhooks import sensor as ws
from hostaway_pipeline.defs.webhooks.sensor import ACCOUNTS_TAG, WEBHOOK_JOB_NAME
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.support.dagster_runs import queue_run, tick
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, keyed
from hostaway_sandbox import SandboxServer


def deliver(wired: Wired, events: list[dict[str, Any]], copies: int = 1) -> None:
    auth: dict[int, tuple[str, str]] = {}
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        for event in events:
            aid = event["accountId"]
            if aid not in auth:  # each account's own credential, registered just now (no gap)
                auth[aid] = keyed(wired.engine, aid, receiver.url)
            for _ in range(copies):
                reply = requests.post(receiver.url, json=event, auth=auth[aid], timeout=30)
                assert reply.status_code == 200


def updated(sandbox: SandboxServer, account: int, note: str) -> tuple[int, dict[str, Any]]:
    rid = sandbox.state.reservations(account)[0]["id"]
    row = sandbox.state.update_reservation(account, rid, guestNote=note)
    return rid, {"object": "reservation", "event": "reservation.updated", "accountId": account,
                 "data": row}  # fmt: skip


def note(wired: Wired, account: int, rid: int) -> str:
    query = "SELECT payload->>'guestNote' FROM hostaway.reservations WHERE account_id=:a AND id=:i"
    with wired.engine.connect() as conn:
        return str(conn.execute(sa.text(query), {"a": account, "i": rid}).scalar_one_or_none())


def run(defs: dg.Definitions, instance: dg.DagsterInstance,
        request: dg.RunRequest) -> dg.ExecuteInProcessResult:  # fmt: skip
    job = defs.resolve_job_def(WEBHOOK_JOB_NAME)
    assert dg.validate_run_config(job, request.run_config)
    return job.execute_in_process(run_config=request.run_config, instance=instance,
                                  tags=dict(request.tags), raise_on_error=False)  # fmt: skip


def step_metadata(result: dg.ExecuteInProcessResult) -> dict[int, dict[str, Any]]:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_OUTPUT":
            meta = {k: v.value for k, v in event.event_specific_data.metadata.items()}  # type: ignore[union-attr]
            if "account_id" in meta:  # not the batch step's fan-out
                out[int(meta["account_id"])] = meta  # type: ignore[call-overload]
    return out


def test_one_run_per_tick_applies_every_account_with_pending_events_one_step_each(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    first, second = sandbox.state.account_ids()
    assert not tick(defs, instance, "webhook_sensor").run_requests  # nothing pending
    rid1, event1 = updated(sandbox, first, "late arrival")
    rid2, event2 = updated(sandbox, second, "early check-in")
    deliver(wired, [event1, event2], copies=2)  # each delivered twice

    (request,) = tick(defs, instance, "webhook_sensor").run_requests or []
    assert request.tags[ACCOUNTS_TAG] == f"{first},{second}"
    assert request.tags["hostaway/pending_events"] == "2"
    result = run(defs, instance, request)
    assert result.success
    metadata = step_metadata(result)
    assert set(metadata) == {first, second}
    for meta in metadata.values():
        assert (meta["events_applied"], meta["duplicates"], meta["api_requests"]) == (1, 1, 0)
        assert meta["deferred"] is False and meta["lag_max_s"] >= 0
    assert (note(wired, first, rid1), note(wired, second, rid2)) == (
        "late arrival",
        "early check-in",
    )
    assert not tick(defs, instance, "webhook_sensor").run_requests  # all applied


def test_accounts_in_an_unfinished_run_or_syncing_wait_and_groups_are_capped(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer,
    accounts: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first, second = map(int, accounts)
    deliver(wired, [updated(sandbox, first, "a")[1], updated(sandbox, second, "b")[1]])
    monkeypatch.setattr(ws, "MAX_ACCOUNTS_PER_RUN", 1)
    groups = tick(defs, instance, "webhook_sensor").run_requests or []
    assert [r.tags[ACCOUNTS_TAG] for r in groups] == [str(first), str(second)]

    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="hostaway_pipeline"))
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), WEBHOOK_JOB_NAME)
    instance.create_run_for_job(defs.resolve_job_def(WEBHOOK_JOB_NAME),
                                run_config=groups[0].run_config, tags=dict(groups[0].tags),
                                status=dg.DagsterRunStatus.QUEUED, remote_job_origin=origin)  # fmt: skip
    (request,) = tick(defs, instance, "webhook_sensor").run_requests or []
    assert request.tags[ACCOUNTS_TAG] == str(second)  # the first one's run has not finished

    queue_run(defs, instance, str(second), "incremental", status=dg.DagsterRunStatus.STARTED)
    data = tick(defs, instance, "webhook_sensor")
    assert not data.run_requests and "all busy" in (data.skip_message or "")
    # A step whose account started syncing after the tick defers it: the events stay pending.
    result = run(defs, instance, request)
    assert result.success and step_metadata(result)[second]["deferred"] is True
    with wired.engine.connect() as conn:
        assert ws.inbox.pending_accounts(conn) == {first: 1, second: 1}


def test_a_failing_account_fails_its_step_only(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    first, second = sandbox.state.account_ids()
    rid, event = updated(sandbox, first, "applied anyway")
    conv = sandbox.state.conversations(second)[0]
    partial = {"object": "conversationMessage", "event": "message.received", "accountId": second,
               "data": {"id": 1, "conversationId": conv["id"]}}  # fmt: skip
    deliver(wired, [event, partial])
    # The partial message needs the API, and Hostaway now refuses the second account's secret.
    sandbox.state.tokens.set_secret(second, "rotated-by-the-owner-" + "x" * 20)

    (request,) = tick(defs, instance, "webhook_sensor").run_requests or []
    result = run(defs, instance, request)
    assert not result.success
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    assert failed == [f"apply_webhook_events[{second}]"]
    assert step_metadata(result)[first]["events_applied"] == 1
    assert note(wired, first, rid) == "applied anyway"
    with wired.engine.connect() as conn:
        assert ws.inbox.pending_accounts(conn) == {second: 1}  # kept for a later run
