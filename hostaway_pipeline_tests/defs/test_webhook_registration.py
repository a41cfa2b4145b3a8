"""Webhook registration over real HTTP (sandbox) and the real PostgreSQL: CLI and account sensor."""

from __future__ import annotations

import dagster as dg
import pytest

from hostaway_pipeline.cli import main
from hostaway_pipeline_tests.support.dagster_runs import account_tick
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer

SECRET = "a receiver secret of at least 32 characters"
LOGIN, PASSWORD = "hook-login-xyz", "hook-password-0123456789"  # the deprecated shared pair
URL = "https://receiver.example.test/webhooks/hostaway"


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTAWAY_WEBHOOK_SECRET", SECRET)


def run(argv: list[str], capsys: pytest.CaptureFixture[str], sandbox: SandboxServer | None = None
        ) -> tuple[int, str]:  # fmt: skip
    code = main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert SECRET not in text and PASSWORD not in text
    for hooks in ([] if sandbox is None else [sandbox.webhooks.registrations(a)
                                               for a in sandbox.state.account_ids()]):  # fmt: skip
        assert all(h["password"] not in text for h in hooks)
    return code, text


def test_register_list_remove_round_trip_is_idempotent_and_never_prints_secrets(
    wired: Wired, sandbox: SandboxServer, creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    aid = sandbox.state.account_ids()[0]
    code, out = run(["webhooks", "register", str(aid), "--url", URL], capsys, sandbox)
    assert code == 0 and "(created, re-keyed)" in out and out.count("\n") == 1
    first = sandbox.webhooks.registrations(aid)[0]["password"]
    code, out = run(["webhooks", "register", str(aid), "--url", URL], capsys, sandbox)
    assert code == 0 and "(updated, re-keyed)" in out  # a new credential: the old one is void
    hooks = sandbox.webhooks.registrations(aid)
    assert len(hooks) == 1 and hooks[0]["login"] == f"hostaway-{aid}"
    assert hooks[0]["password"] != first and len(hooks[0]["password"]) >= 40
    code, out = run(["webhooks", "list", str(aid)], capsys)
    assert code == 0 and f"webhook {hooks[0]['id']} url={URL} enabled=yes auth=basic" in out
    code, out = run(["accounts", "list"], capsys)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(str(aid)))
    assert "webhook=registered last_event=never" in line
    code, out = run(["webhooks", "remove", str(aid), "--url", URL], capsys)
    assert code == 0 and "(removed)" in out
    assert sandbox.webhooks.registrations(aid) == []
    code, out = run(["accounts", "list"], capsys)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(str(aid)))
    assert "webhook=none last_event=never" in line
    code, out = run(["webhooks", "remove", str(aid), "--webhook-id", "999"], capsys)
    assert code == 2 and f"account {aid}" in out


def test_register_without_credentials_fails_before_any_request(
    wired: Wired, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("HOSTAWAY_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("HOSTAWAY_WEBHOOK_LOGIN", LOGIN)  # the shared pair is never registered
    monkeypatch.setenv("HOSTAWAY_WEBHOOK_PASSWORD", PASSWORD)
    aid = sandbox.state.account_ids()[0]
    code, out = run(["webhooks", "register", str(aid), "--url", URL], capsys)
    assert code == 2 and "HOSTAWAY_WEBHOOK_SECRET" in out
    monkeypatch.setenv("HOSTAWAY_WEBHOOK_SECRET", SECRET)
    for url in ("http://receiver.example.test/hooks", "ftp://x/", "https://"):
        code, out = run(["webhooks", "register", str(aid), "--url", url], capsys)
        assert code == 2 and "https://" in out, url  # the credential would travel in clear
    assert sandbox.webhooks.registrations(aid) == []


def test_account_sensor_registers_each_account_once_with_the_webhook_url(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer,
    creds: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("HOSTAWAY_WEBHOOK_URL", URL)
    accounts = sandbox.state.account_ids()
    requests, cursor, _ = account_tick(defs, instance)
    assert sorted(r.partition_key for r in requests) == sorted(map(str, accounts))
    for aid in accounts:
        hooks = sandbox.webhooks.registrations(aid)
        assert [h["url"] for h in hooks] == [URL] and hooks[0]["login"] == f"hostaway-{aid}"
    account_tick(defs, instance, cursor)  # already registered: nothing added
    assert all(len(sandbox.webhooks.registrations(aid)) == 1 for aid in accounts)
    code, out = run(["accounts", "list"], capsys)
    assert code == 0 and out.count("webhook=registered") == len(accounts)


def test_a_post_whose_answer_is_garbled_is_not_retried_and_register_then_adopts_it(
    wired: Wired, sandbox: SandboxServer
) -> None:
    from hostaway_pipeline.client import errors as e
    from hostaway_pipeline.webhooks import registration as reg

    aid = sandbox.state.account_ids()[0]
    with wired.client(sandbox, aid) as client:
        sandbox.faults.queue("truncated", 1, "/webhooks/unifiedWebhooks")
        body = {"isEnabled": 1, "url": URL, "login": LOGIN, "password": PASSWORD}
        with pytest.raises(e.MalformedResponseError):
            client.write("POST", reg.HOOKS_PATH, body)
        assert len(sandbox.webhooks.registrations(aid)) == 1  # applied once, not re-posted
        hook, action = reg.register(client, URL, LOGIN, PASSWORD)
    assert action == reg.UNCHANGED and [h["id"] for h in sandbox.webhooks.registrations(aid)] == [
        hook.id
    ]


def test_a_failed_auto_registration_is_retried_on_a_later_tick_and_accounts_list_shows_events(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer,
    creds: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import sqlalchemy as sa

    from hostaway_pipeline.webhooks.autoregister import retry_after
    from hostaway_pipeline.webhooks.store import events as inbox
    from hostaway_pipeline.webhooks.store import registrations as regs

    monkeypatch.setenv("HOSTAWAY_WEBHOOK_URL", URL)
    first, second = sandbox.state.account_ids()
    wired.repo.disable(second)  # one account keeps the test to one registration
    # Hostaway refuses the first list request, and again after a token refresh: a real failure.
    sandbox.faults.queue("403", 2, "/v1/webhooks/unifiedWebhooks")
    requests, cursor, _ = account_tick(defs, instance)
    assert [r.partition_key for r in requests] == [str(first)]  # the first sync is not held back
    assert sandbox.faults.pending() == 0 and sandbox.webhooks.registrations(first) == []
    failed = regs.registrations(wired.engine)[first]
    assert (failed.state, failed.attempts) == (regs.FAILED, 1)
    assert failed.last_error and f"account {first}" in failed.last_error
    assert LOGIN not in failed.last_error and PASSWORD not in failed.last_error
    assert not wired.repo.get(first).credentials_rejected

    account_tick(defs, instance, cursor)  # within the 1-minute backoff: not tried again
    assert regs.registrations(wired.engine)[first].attempts == 1
    assert sandbox.webhooks.registrations(first) == []

    with wired.engine.begin() as conn:  # the backoff elapses
        conn.execute(sa.update(regs.webhook_registrations).values(
            updated_at=failed.updated_at - retry_after(1)))  # fmt: skip
    account_tick(defs, instance, cursor)
    done = regs.registrations(wired.engine)[first]
    assert (done.state, done.attempts, done.last_error) == (regs.REGISTERED, 0, None)
    assert [h["url"] for h in sandbox.webhooks.registrations(first)] == [URL]

    code, out = run(["accounts", "list"], capsys)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(str(first)))
    assert "webhook=registered last_event=never" in line
    from datetime import UTC, datetime

    at = datetime(2026, 12, 1, 9, 30, 5, tzinfo=UTC)
    with wired.engine.begin() as conn:
        inbox.store_event(conn, "k1", first, "reservation", "reservation.updated", 1,
                          '{"data": {"id": 1}}', now=at)  # fmt: skip
    code, out = run(["accounts", "list"], capsys)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(str(first)))
    assert code == 0 and "webhook=registered last_event=2026-12-01T09:30:05Z" in line
    assert "polling=normal  " in line  # that event is days old: not healthy
    with wired.engine.begin() as conn:
        inbox.store_event(conn, "k2", first, "reservation", "reservation.updated", 2,
                          '{"data": {"id": 2}}', now=datetime.now(UTC))  # fmt: skip
    code, out = run(["accounts", "list"], capsys)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(str(first)))
    assert "polling=relaxed(60m,conversations=240m)  " in line, line
