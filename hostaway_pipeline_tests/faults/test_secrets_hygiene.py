"""After runs that go wrong, no secret or token is anywhere it could be read, and no guest data
is anywhere but the `payload` column.

Through Dagster, against the sandbox: a full run through 5xx bursts, truncated and HTML bodies
and a token revoked mid-run; then an incremental run after the secret was rotated and its tokens
revoked (it fails with AuthError); then set-secret and a run that converges. Every client secret
(old and new) and every token the sandbox issued is then searched for in: the Python logs at
DEBUG, the Dagster event log (messages, metadata, errors), run config and tags, the exception
texts, stdout/stderr, every file of the Dagster instance, and every column of every table in
schema `hostaway` (as text). Guest names, emails, phones and message bodies are searched for in
all of those but the entity tables' `payload`, which is where they belong.
"""

from __future__ import annotations

import logging
import threading

import dagster as dg
import pytest

from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.runs.runner import root_message
from hostaway_pipeline.settings import Settings
from hostaway_pipeline_tests.faults.support import Wired, assert_converged, wire
from hostaway_pipeline_tests.support.leaks import find as _find
from hostaway_pipeline_tests.support.leaks import instance_files, run, table_texts
from hostaway_sandbox import SandboxServer


def test_no_secret_token_or_guest_data_leaks_after_runs_that_failed(
    settings: Settings, secret_key: str, sandbox: SandboxServer, instance: dg.DagsterInstance,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    w: Wired = wire(settings.database_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    old_secret = sandbox.state.secret(account)
    tokens: list[str] = []
    issue = sandbox.state.tokens.issue

    def recording_issue(form: dict[str, str]) -> tuple[str | None, str]:
        token, error = issue(form)
        if token:
            tokens.append(token)
        return token, error

    sandbox.state.tokens.issue = recording_issue  # type: ignore[method-assign]
    defs = build_definitions(settings)
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])

    # 1. A full run through bursts of faults and a token revoked mid-run: it still succeeds.
    seen = 0
    lock = threading.Lock()

    def trouble(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        nonlocal seen
        with lock:
            seen += 1
            if seen == 6:
                sandbox.state.revoke_tokens(account)
            if seen % 7 == 0 and sandbox.faults.pending() == 0:
                sandbox.faults.queue(["5xx", "truncated", "html200", "502", "429"][seen % 5], 1)

    sandbox.hooks.before_response = trouble
    first = run(defs, instance, account, "full")
    sandbox.hooks.before_response = None
    assert first.success
    assert any(r.fault for r in sandbox.stats.log) and len(tokens) >= 2

    # 2. The secret is rotated and its tokens revoked: the run fails, naming set-secret.
    new_secret = sandbox.state.rotate_secret(account)
    sandbox.state.revoke_tokens(account)
    sandbox.state.add_message(account, sandbox.state.conversations(account)[0]["id"], body="hi")
    second = run(defs, instance, account, "incremental")
    assert not second.success
    failures = [e for e in second.all_events if e.is_step_failure]
    errors = [
        root_message(error) for e in failures if (error := e.step_failure_data.error) is not None
    ]
    assert any(f"accounts set-secret {account}" in m for m in errors), errors
    w.repo.record_error(account, errors[0], credentials_rejected=True)  # as the sensor does

    # 3. set-secret, and the next run converges.
    w.repo.set_secret(account, new_secret)
    third = run(defs, instance, account, "full")
    assert third.success
    assert_converged(w.engine, sandbox, account)

    secrets = [old_secret, new_secret, *tokens]
    guests: list[str] = []
    for r in sandbox.state.reservations(account):
        guests += [r["guestName"], r["guestEmail"], r.get("phone") or ""]
    for c in sandbox.state.conversations(account):
        guests += [c["recipientName"], c["guestEmail"]]
    guests += [m["body"] for m in sandbox.state.messages(account)]
    guests = [g for g in set(guests) if g and len(g) >= 6]

    everywhere: dict[str, list[str]] = {
        "python logs": [caplog.text] + [str(r.__dict__) for r in caplog.records],
        "event log": [],
        "run config and tags": [],
        "exceptions": errors,
        "stdout/stderr": list(capfd.readouterr()),
        "dagster instance files": instance_files(instance),
    }
    for result in (first, second, third):
        for entry in instance.all_logs(result.run_id):
            everywhere["event log"].append(dg.serialize_value(entry))
        dagster_run = instance.get_run_by_id(result.run_id)
        assert dagster_run is not None
        everywhere["run config and tags"].append(repr((dagster_run.run_config, dagster_run.tags)))
    assert "request_id=" in "".join(everywhere["event log"])  # the API call log was searched
    assert "GET /v1/reservations" in everywhere["python logs"][0]  # DEBUG was captured
    leaks = _find(everywhere, secrets + guests)
    leaks += _find({"tables": table_texts(w.engine, skip_payload=False)}, secrets)
    leaks += _find({"tables outside payload": table_texts(w.engine, skip_payload=True)}, guests)
    assert not leaks, leaks
    assert len(secrets) >= 4 and len(guests) >= 20  # the search had something to find
    w.engine.dispose()
