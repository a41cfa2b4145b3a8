"""Guest erasure end to end (sandbox over HTTP, real PostgreSQL, the real CLI), and retention.

Sync; erase one reservation's guest with `hostaway-pipeline guests erase`; the guest's data is
gone from every table; a full sync while the sandbox still serves it (and after the guest wrote
again) keeps it gone; erasing again changes nothing; erasing by e-mail covers every reservation
of that address. Row ids and non-personal columns stay for counts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline.cli import main
from hostaway_pipeline.privacy.erasure import email_key
from hostaway_pipeline.privacy.retention import purge_deleted, retention_days
from hostaway_pipeline.sync.engine import SyncMode
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import soft_delete_missing, upsert_rows
from hostaway_pipeline_tests.faults.conftest import MakeSandbox
from hostaway_pipeline_tests.faults.support import sync_all, wire
from hostaway_pipeline_tests.support.leaks import table_texts
from hostaway_sandbox import SandboxServer


def plant(sandbox: SandboxServer, account: int, rid: int, email: str | None = None) -> list[str]:
    """Unique personal values on reservation `rid` and a message of its conversation."""
    tag = uuid.uuid4().hex[:10]
    values = {"guestName": f"Erasable Guest {tag}", "guestFirstName": f"First{tag}",
              "guestLastName": f"Last{tag}", "phone": f"+44 {tag}",
              "guestEmail": email or f"guest.{tag}@example.com"}  # fmt: skip
    sandbox.state.update_reservation(account, rid, **values)
    needles = [v for k, v in values.items() if k != "guestEmail" or email is None]
    for conv in sandbox.state.conversations(account):
        if conv["reservationId"] == rid:
            body = f"my door code is {tag}"
            sandbox.state.add_message(account, conv["id"], body=body)
            needles.append(body)
    return needles


def leaks(engine: sa.Engine, needles: list[str]) -> list[str]:
    blob = "\n".join(table_texts(engine, skip_payload=False))
    return [n for n in needles if n in blob]


def cli(*args: Any) -> int:
    return main(["guests", *map(str, args)])


@pytest.fixture
def env(fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HOSTAWAY_DATABASE_URL", fresh_pg_url)
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", secret_key)
    monkeypatch.setenv("HOSTAWAY_API_URL", sandbox.url)
    monkeypatch.setenv("HOSTAWAY_HOME", str(tmp_path / "home"))


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> SandboxServer:
    return make_sandbox(accounts=1, listings=3, reservations=25, messages_per_conversation=2)


def test_an_erased_guest_is_gone_everywhere_and_stays_gone_after_full_syncs(
    env: None, fresh_pg_url: str, secret_key: str, sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    w = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    with_conv = {c["reservationId"] for c in sandbox.state.conversations(account)}
    rids = [r["id"] for r in sandbox.state.reservations(account) if r["id"] in with_conv]
    target, keeper, by_mail_a, by_mail_b = rids[:4]
    needles = plant(sandbox, account, target)
    kept = plant(sandbox, account, keeper)
    shared = f"shared.{uuid.uuid4().hex[:8]}@example.com"
    mail_needles = plant(sandbox, account, by_mail_a, shared) + plant(
        sandbox, account, by_mail_b, shared
    )
    sync_all(w, sandbox, account, SyncMode.FULL)
    assert leaks(w.engine, needles + kept + mail_needles + [shared]) == needles + kept + (
        mail_needles + [shared]
    )  # all stored: the search can find them
    res = schema.reservations
    with w.engine.connect() as conn:
        before = conn.execute(sa.select(res).where(res.c.id == target)).one()

    assert cli("erase", "--account", account, "--reservation", target) == 0
    out = capsys.readouterr().out
    assert f"account {account}: erased 1 reservation(s) [{target}]" in out
    assert leaks(w.engine, needles) == [] and leaks(w.engine, kept) == kept
    with w.engine.connect() as conn:
        after = conn.execute(sa.select(res).where(res.c.id == target)).one()
        erasure_rows = conn.execute(sa.select(schema.erasures)).all()
    assert after.payload["erased"] is True and after.payload["id"] == target
    for column in ("status", "arrival_date", "total_price", "listing_map_id", "deleted_at"):
        assert getattr(after, column) == getattr(before, column), column
    assert ("reservation", str(target)) in {(r.kind, r.key) for r in erasure_rows}

    # Hostaway still serves the guest, who even writes again: full syncs keep it out.
    sandbox.state.update_reservation(account, target, guestNote=f"note {needles[0]}")
    conv = next(c for c in sandbox.state.conversations(account) if c["reservationId"] == target)
    sandbox.state.add_message(account, conv["id"], body=f"again {needles[-1]}")
    reports = sync_all(w, sandbox, account, SyncMode.FULL)
    reports.update(sync_all(w, sandbox, account, SyncMode.INCREMENTAL, timedelta(minutes=5)))
    assert sum(t.erased for r in reports.values() for t in r.tables.values()) > 0
    assert leaks(w.engine, needles) == [] and leaks(w.engine, kept) == kept

    assert cli("erase", "--account", account, "--reservation", target) == 0  # idempotent
    assert "0 row(s) redacted now" in capsys.readouterr().out

    assert cli("erase", "--account", account, "--email", shared.upper()) == 0
    assert "erased 2 reservation(s)" in capsys.readouterr().out
    sync_all(w, sandbox, account, SyncMode.FULL)
    assert leaks(w.engine, [*mail_needles, shared]) == [] and leaks(w.engine, kept) == kept
    with w.engine.connect() as conn:
        keys = set(conn.scalars(sa.select(schema.erasures.c.key)))
    assert email_key(shared) in keys and shared not in keys
    w.engine.dispose()


def test_erase_refuses_an_ambiguous_request(env: None) -> None:
    with pytest.raises(SystemExit):
        cli("erase", "--account", 1, "--reservation", 2, "--email", "a@example.com")
    assert cli("erase", "--account", 1, "--email", "not-an-address") == 2


def test_retention_purges_only_rows_deleted_long_enough_ago(
    env: None, fresh_pg_url: str, secret_key: str, sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    w = wire(fresh_pg_url, secret_key, sandbox)
    res = schema.reservations
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"id": i, "payload": {"id": i, "guestName": f"Old Guest {i}", "status": "new"},
             "status": "new"} for i in (1, 2, 3)]  # fmt: skip
    with w.engine.begin() as conn:
        upsert_rows(conn, res, 5, rows, now=t0)
        soft_delete_missing(conn, res, 5, {3}, now=t0)  # 1 and 2 deleted at t0
        upsert_rows(conn, res, 6, rows[:1], now=t0)
        soft_delete_missing(conn, res, 6, set(), now=t0 + timedelta(days=20))
    assert purge_deleted(w.engine, 30, now=t0 + timedelta(days=10))["reservations"] == 0
    assert purge_deleted(w.engine, 30, now=t0 + timedelta(days=31))["reservations"] == 2
    assert purge_deleted(w.engine, 30, now=t0 + timedelta(days=31))["reservations"] == 0
    with w.engine.connect() as conn:
        got = {(r.account_id, r.id): r for r in conn.execute(sa.select(res))}
    assert got[(5, 1)].payload == {"id": 1, "status": "new", "erased": True}
    assert got[(5, 1)].status == "new" and got[(5, 3)].payload["guestName"] == "Old Guest 3"
    assert got[(6, 1)].payload["guestName"] == "Old Guest 1"  # deleted only 11 days before
    assert retention_days({}) is None and retention_days({"HOSTAWAY_RETENTION_DAYS": "30"}) == 30
    assert cli("purge") == 0 and "retention is off" in capsys.readouterr().out
    monkeypatch.setenv("HOSTAWAY_RETENTION_DAYS", "1")
    assert cli("purge") == 0 and "reservations 1" in capsys.readouterr().out  # (6, 1), now
    monkeypatch.setenv("HOSTAWAY_RETENTION_DAYS", "-3")
    assert cli("purge") == 2
    w.engine.dispose()
