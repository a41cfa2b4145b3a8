"""Hostile values through the real Dagster machinery, then a sweep for a planted guest marker.

The sandbox serves reservations whose payloads hold a guest marker next to Infinity, -Infinity,
NaN and NUL, on a 100-row page (COPY path) and a 20-row page (INSERT path); one answer is an
HTML error page quoting the guest. The run succeeds and stores them marked. Then a CHECK
constraint makes the warehouse refuse those rows (its error text quotes the payload) on each
write path: the runs fail with WarehouseError (not retryable) whose text names no guest value,
and the sensor records it in `accounts.last_error`. Then bodies quoting the guest with an
impossible `count` and with 600 levels of nesting fail the run with typed errors. Finally the marker is searched for in every
table column but `payload`, the Python logs, the Dagster event log and instance files and the
exception texts; the Fernet key, the client secret and every issued token everywhere.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import replace

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.client.payloads import MARKER
from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.runs.runner import root_message
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.faults.conftest import MakeSandbox
from hostaway_pipeline_tests.faults.support import wire
from hostaway_pipeline_tests.support.leaks import find as _find
from hostaway_pipeline_tests.support.leaks import instance_files, run, table_texts
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.handlers import Reply

GUEST = f"Guestmarker-{uuid.uuid4().hex[:12]}"
CORE = ("listings", "reservations", "conversations", "messages")


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> SandboxServer:
    return make_sandbox(accounts=1, listings=3, reservations=120, messages_per_conversation=1)


@pytest.fixture
def core_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The four core entities: the hostile values and the guest are in reservations, and the
    fault suites' other entities (settings) would add one finance-fields request per reservation
    (120) to every successful run."""
    monkeypatch.setenv("HOSTAWAY_ENTITIES", ",".join(CORE))
    return replace(settings, entities=frozenset(CORE))


def refuse_marked_rows(engine: sa.Engine) -> None:
    """A constraint the warehouse enforces with an error quoting the row (payload included)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "ALTER TABLE hostaway.reservations ADD CONSTRAINT no_refuse CHECK "
            "(payload->>'guestNote' IS NULL OR payload->>'guestNote' NOT LIKE 'refuse%')"
        ))  # fmt: skip


def test_hostile_values_are_stored_and_refused_writes_leak_no_guest_data(
    core_settings: Settings, secret_key: str, sandbox: SandboxServer,
    instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    settings = core_settings
    caplog.set_level(logging.DEBUG)
    w = wire(settings.database_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    tokens: list[str] = []
    issue = sandbox.state.tokens.issue

    def recording_issue(form: dict[str, str]) -> tuple[str | None, str]:
        token, error = issue(form)
        tokens.append(token or "")
        return token, error

    sandbox.state.tokens.issue = recording_issue  # type: ignore[method-assign]
    hostile = [math.inf, -math.inf, math.nan, f"{GUEST}\x00nul"]
    reservations = sandbox.state.reservations(account)
    assert len(reservations) == 120
    for i, r in enumerate(reservations):
        sandbox.state.update_reservation(
            account, r["id"], guestName=f"{GUEST} {i}", totalPrice=hostile[i % 4],
            guestEmail=f"{GUEST.lower()}{i}@example.com",
        )  # fmt: skip
    served_html = []

    def html_once(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        if path.endswith("/reservations") and not served_html:
            served_html.append(path)
            page = f"<html><p>Reservation of {GUEST} could not be loaded</p></html>"
            raise Reply(500, page.encode())

    sandbox.hooks.before_response = html_once
    defs = build_definitions(settings)
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    first = run(defs, instance, account, "full")
    sandbox.hooks.before_response = None
    assert first.success and served_html

    table = schema.reservations
    with w.engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(sa.select(table))}
    assert len(stored) == 120
    prices = [r.payload["totalPrice"] for r in stored.values()]
    assert {MARKER + "Infinity", MARKER + "-Infinity", MARKER + "NaN"} <= set(prices)
    assert all(r.total_price is None for r in stored.values() if r.payload["totalPrice"]
               in (MARKER + "Infinity", MARKER + "NaN"))  # fmt: skip

    # Refused writes, on the COPY path (60 changed rows) and the INSERT path (3).
    refuse_marked_rows(w.engine)
    errors: list[str] = []
    for changed in (60, 3):
        for r in sandbox.state.reservations(account)[:changed]:
            sandbox.state.update_reservation(account, r["id"], guestNote=f"refuse {GUEST}")
        failed = run(defs, instance, account, "full")
        assert not failed.success
        for event in failed.all_events:
            if event.is_step_failure and (error := event.step_failure_data.error) is not None:
                errors.append(root_message(error))
                assert "WarehouseError" in repr(error.cls_name) or "refused" in errors[-1]
        w.repo.record_error(account, errors[-1])  # as the sensor does
    assert len([e for e in errors if "warehouse refused a write" in e]) >= 2, errors

    with w.engine.connect() as conn:
        last_error = conn.scalar(sa.text(
            "SELECT last_error FROM hostaway.accounts WHERE account_id = :a"), {"a": account})  # fmt: skip
    assert last_error and "refused" in last_error
    # (the later hostile-body runs overwrite it; it is searched with every table below)

    # Hostile bodies quoting the guest: an impossible count, and nesting past the limit.
    record = '{"id": 1, "guestName": "' + GUEST + '", "x": '
    for body in (
        '{"status": "success", "result": [' + record + '1}], "count": 1' + "0" * 309 + "}",
        '{"status": "success", "result": [' + record + "[" * 600 + "]" * 600 + '}], "count": 1}',
    ):
        hostile = body.encode()

        def serve_hostile(method: str, path: str, query: dict[str, str], aid: int | None,
                          hostile: bytes = hostile) -> None:  # fmt: skip
            if path.endswith("/reservations"):
                raise Reply(200, hostile, {"Content-Type": "application/json"})

        sandbox.hooks.before_response = serve_hostile
        failed = run(defs, instance, account, "full")
        sandbox.hooks.before_response = None
        assert not failed.success
        messages = [root_message(error) for event in failed.all_events
                    if event.is_step_failure and (error := event.step_failure_data.error)]  # fmt: skip
        assert any("invalid response at /reservations" in m for m in messages), messages
        errors += messages
        w.repo.record_error(account, messages[0])
    assert all("CheckViolation" in e for e in errors if "refused" in e)

    everywhere: dict[str, list[str]] = {
        "python logs": [caplog.text] + [str(r.__dict__) for r in caplog.records],
        "event log": [],
        "exceptions": errors,
        "stdout/stderr": list(capfd.readouterr()),
        "dagster instance files": instance_files(instance),
    }
    for result in instance.get_runs():
        everywhere["event log"] += [dg.serialize_value(e) for e in instance.all_logs(result.run_id)]
    assert "sanitized_payloads" in "".join(everywhere["event log"])  # metadata was searched
    secrets = [secret_key, sandbox.state.secret(account), *[t for t in tokens if t]]
    leaks = _find(everywhere, [GUEST, GUEST.lower(), *secrets])
    leaks += _find({"tables": table_texts(w.engine, skip_payload=False)}, secrets)
    leaks += _find({"tables outside payload": table_texts(w.engine, skip_payload=True)},
                   [GUEST, GUEST.lower()])  # fmt: skip
    assert not leaks, leaks
    assert len(secrets) >= 2
    w.engine.dispose()
