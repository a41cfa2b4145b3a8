"""Personal data is gone from EVERY table after `guests purge`, `guests erase --email` and
`guests erase --reservation`: planted e-mail addresses and phone numbers of guests and staff are
searched for in every row of every table of schema `hostaway` (each row as text: typed columns,
payloads, JSON), with the reservation stored and without it. Sandbox over HTTP, real PostgreSQL,
every catalog entity synced."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.privacy.erasure import erase_guest
from hostaway_pipeline.privacy.retention import purge_deleted
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.faults.conftest import MakeSandbox
from hostaway_pipeline_tests.faults.support import wire
from hostaway_pipeline_tests.helpers import Wired
from hostaway_sandbox import SandboxServer

ACCOUNT_STREAMS = [s for s in streams.STREAMS if s.scope is streams.Scope.ACCOUNT]


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> SandboxServer:
    return make_sandbox(accounts=1, listings=3, reservations=25, messages_per_conversation=2)


def scan(engine: sa.Engine, needles: list[str]) -> dict[str, list[str]]:
    """Table -> the needles found in any of its rows, over every table of schema hostaway."""
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        names = conn.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'hostaway'")
        ).all()
        assert "listing_calendar" in names and "users" in names
        for name in names:
            for needle in needles:
                query = sa.text(f'SELECT count(*) FROM hostaway."{name}" t WHERE t::text LIKE :n')
                if conn.scalar(query, {"n": f"%{needle}%"}):
                    found.setdefault(name, []).append(needle)
    return found


def sync(w: Wired, sandbox: SandboxServer, account: int, specs: list[StreamSpec]) -> None:
    with w.client(sandbox, account) as client:
        engine = SyncEngine(client, w.engine, account)
        for spec in specs:
            engine.run(spec, SyncMode.FULL, timedelta(0))


def guest(sandbox: SandboxServer, account: int, rid: int) -> list[str]:
    """A unique e-mail and phone planted on reservation `rid` (calendar days embed them)."""
    tag = uuid.uuid4().hex[:10]
    email, phone = f"guest.{tag}@example.com", f"+4477{int(tag, 16) % 10**9:09d}"
    sandbox.state.update_reservation(account, rid, guestEmail=email, phone=phone)
    return [email, phone]


def staff(sandbox: SandboxServer, account: int, k: int) -> list[str]:
    """A unique e-mail and phone planted on the account's k-th user."""
    tag = uuid.uuid4().hex[:10]
    email, phone = f"staff.{tag}@agency.example.com", f"+1555{int(tag, 16) % 10**8:08d}"
    uid = sandbox.state.catalog_rows("users", account)[k]["id"]
    sandbox.state.update_object("users", account, uid, email=email, phone=phone)
    return [email, phone]


def booked(sandbox: SandboxServer, account: int, n: int) -> list[int]:
    """`n` reservations moved to stays a few days ahead, inside the calendar window (their days
    embed the guest)."""
    today = datetime.now(UTC).date()
    with_conv = {c["reservationId"] for c in sandbox.state.conversations(account)}
    rids = [r["id"] for r in sandbox.state.reservations(account) if r["id"] in with_conv][:n]
    for k, rid in enumerate(rids):
        start = today + timedelta(days=5 + 10 * k)
        sandbox.state.update_reservation(
            account, rid, status="new", arrivalDate=start.isoformat(),
            departureDate=(start + timedelta(days=3)).isoformat(),
        )  # fmt: skip
    assert len(rids) == n
    return rids


def _age(w: Wired, table: str, ids: list[Any], days: int) -> None:
    """As if the rows had been deleted at the source `days` days ago."""
    t = schema.table(table)
    with w.engine.begin() as conn:
        conn.execute(
            sa.update(t)
            .where(t.c.id.in_(ids))
            .values(deleted_at=datetime.now(UTC) - timedelta(days=days))
        )


def test_purge_and_erasure_leave_no_planted_email_or_phone_in_any_table(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    w = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    purged, erased = booked(sandbox, account, 2)
    gone_guest, kept_guest = guest(sandbox, account, purged), guest(sandbox, account, erased)
    gone_staff, erased_staff = staff(sandbox, account, 0), staff(sandbox, account, 1)
    sync(w, sandbox, account, ACCOUNT_STREAMS)
    everything = gone_guest + kept_guest + gone_staff + erased_staff
    found = scan(w.engine, everything)
    assert set(found["listing_calendar"]) == set(gone_guest + kept_guest)  # days embed guests
    assert set(found["users"]) == set(gone_staff + erased_staff)

    # Retention: the reservation (and its conversations) and a user deleted 40 days ago.
    uid = sandbox.state.catalog_rows("users", account)[0]["id"]
    sandbox.state.delete_object("users", account, uid)
    sync(w, sandbox, account, [streams.by_name("users")])
    convs = [c["id"] for c in sandbox.state.conversations(account) if c["reservationId"] == purged]
    _age(w, "reservations", [purged], 40)
    _age(w, "conversations", convs, 40)
    _age(w, "users", [uid], 40)
    purge_deleted(w.engine, 30)
    assert scan(w.engine, gone_guest + gone_staff) == {}
    assert set(scan(w.engine, kept_guest)["listing_calendar"]) == set(kept_guest)  # not purged

    # Erasure by e-mail, the reservation stored: the guest; then a member of staff.
    erase_guest(w.engine, account, email=kept_guest[0])
    erase_guest(w.engine, account, email=erased_staff[0].upper())
    assert scan(w.engine, everything) == {}
    w.engine.dispose()


@pytest.mark.parametrize("by", ["email", "reservation"])
def test_erasure_reaches_calendar_days_without_the_reservation_stored(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, by: str
) -> None:
    w = wire(fresh_pg_url, secret_key, sandbox)
    account = sandbox.state.account_ids()[0]
    (rid,) = booked(sandbox, account, 1)
    planted = guest(sandbox, account, rid)
    # An account that syncs its calendar but not its reservations (or whose reservation row is
    # gone): the days are the only place that names the guest.
    sync(w, sandbox, account, [streams.LISTINGS, streams.by_name("listing_calendar")])
    assert set(scan(w.engine, planted)) == {"listing_calendar"}
    if by == "email":
        report = erase_guest(w.engine, account, email=planted[0])
        assert report.reservations == (rid,)  # found in the bookings the days embed
    else:
        erase_guest(w.engine, account, reservation_id=rid)
    assert scan(w.engine, planted) == {}
    sync(w, sandbox, account, [streams.by_name("listing_calendar")])  # Hostaway still serves it
    assert scan(w.engine, planted) == {}
    w.engine.dispose()
