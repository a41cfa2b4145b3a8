"""Every catalog entity against the sandbox over HTTP and the real warehouses: each concept of the
engine (unpaged lists, single objects, maps, stored parents, composite keys, date windows, cadence,
redaction) proven on the entities that use it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog
from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.catalog import listings as listing_details
from hostaway_pipeline.catalog import reservations as reservation_details
from hostaway_pipeline.privacy.erasure import erase_guest
from hostaway_pipeline.settings import Settings, SettingsError
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.support.wiring import Wired, wire
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(minutes=5)
ADDED = [s for s in catalog.CATALOG if s not in catalog.core.__dict__.values()]


@pytest.fixture
def wired(any_db_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    w = wire(any_db_url, secret_key, sandbox)
    yield w
    w.engine.dispose()


def engine_for(
    w: Wired, server: SandboxServer, account: int, clock: datetime | None = None, **kw: object
) -> SyncEngine:
    tick = clock or datetime.now(UTC)
    return SyncEngine(w.client(server, account), w.engine, account, clock=lambda: tick, **kw)  # type: ignore[arg-type]


def live(w: Wired, spec: StreamSpec, account: int) -> dict[object, dict[str, object]]:
    table = schema.table(spec.table)
    with w.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.payload).where(
                table.c.account_id == account, table.c.deleted_at.is_(None)
            )
        )
        return {r.id: r.payload for r in rows}


def expected(server: SandboxServer, spec: StreamSpec, account: int, **query: str) -> int:
    """How many rows the sandbox serves for the entity (every parent's, for children)."""
    name = spec.name
    if spec.parent is None:
        return len(server.state.catalog_rows(name, account))
    parents = (
        server.state.listings(account)
        if spec.parent.name == "listings"
        else server.state.reservations(account)
    )
    return sum(len(server.state.catalog_rows(name, account, p["id"], **query)) for p in parents)


@pytest.mark.parametrize("spec", ADDED, ids=lambda s: s.name)
def test_every_added_entity_mirrors_what_the_sandbox_serves(
    wired: Wired, sandbox: SandboxServer, spec: StreamSpec
) -> None:
    account = sandbox.state.account_ids()[0]
    now = datetime.now(UTC)
    sync = engine_for(wired, sandbox, account, now, window_days=(3, 10))
    if spec.parent is not None:
        sync.run(spec.parent, SyncMode.FULL, LOOKBACK)
    report = sync.run(spec, SyncMode.FULL, LOOKBACK)
    window = {}
    if spec.window is not None:
        window = {
            spec.window.start_param: (now.date() - timedelta(days=3)).isoformat(),
            spec.window.end_param: (now.date() + timedelta(days=10)).isoformat(),
        }
    rows = live(wired, spec, account)
    assert len(rows) == expected(sandbox, spec, account, **window) > 0 or spec.name in {
        "webhook_configurations",  # the sandbox's registrations: none made here
        "listing_agreements", "listing_units",  # may be empty for every listing of an account
    }  # fmt: skip
    counts = report.table(spec.table)
    assert counts.inserted == len(rows) and counts.duplicates == 0
    if spec.text_id:  # composite and code keys: the id is the key's text
        assert all(isinstance(i, str) and i for i in rows)
    if spec.window is not None:  # one row per listing and date of the window
        assert len(rows) == 14 * len(sandbox.state.listings(account))


def test_changed_parents_only_ask_for_the_reservations_that_changed(
    wired: Wired, sandbox: SandboxServer
) -> None:
    state, spec = sandbox.state, reservation_details.RESERVATION_FINANCE_FIELDS
    account = state.account_ids()[0]
    # The real clock: the parents' `synced_at` and the children's verification times are ours.
    sync = SyncEngine(wired.client(sandbox, account), wired.engine, account)
    sync.run(catalog.RESERVATIONS, SyncMode.FULL, LOOKBACK)
    full = sync.run(spec, SyncMode.FULL, LOOKBACK)
    assert full.parents_changed == len(state.reservations(account))
    target = state.reservations(account)[2]["id"]
    state.update_reservation(account, target, numberOfGuests=7)
    sync.run(catalog.RESERVATIONS, SyncMode.INCREMENTAL, LOOKBACK)
    sandbox.stats.reset()
    report = sync.run(spec, SyncMode.INCREMENTAL, LOOKBACK)
    assert report.parents_changed == 1  # the one reservation whose row changed
    assert sandbox.stats.count(path_prefix=f"/v1/financeField/{target}") == 1
    assert sandbox.stats.total == 1
    assert sync.run(spec, SyncMode.INCREMENTAL, LOOKBACK).api.requests == 0  # nothing moved


def test_calendar_days_keep_their_history_and_die_with_their_listing(
    wired: Wired, sandbox: SandboxServer
) -> None:
    state, spec = sandbox.state, listing_details.LISTING_CALENDAR
    account = state.account_ids()[0]
    today = datetime.now(UTC)
    sync = engine_for(wired, sandbox, account, today, window_days=(0, 1))
    sync.run(catalog.LISTINGS, SyncMode.FULL, LOOKBACK)
    sync.run(spec, SyncMode.FULL, LOOKBACK)
    listing = state.listings(account)[0]["id"]
    day = today.date().isoformat()
    assert f"{listing}|{day}" in live(wired, spec, account)  # listing + date is the key
    tomorrow = engine_for(wired, sandbox, account, today + timedelta(days=1), window_days=(0, 1))
    tomorrow.run(spec, SyncMode.FULL, LOOKBACK)
    rows = live(wired, spec, account)
    assert f"{listing}|{day}" in rows  # left the window: history, not a deletion
    assert len(rows) == 3 * len(state.listings(account))
    state.delete_listing(account, listing)
    tomorrow.run(catalog.LISTINGS, SyncMode.FULL, LOOKBACK)
    report = tomorrow.run(spec, SyncMode.FULL, LOOKBACK)
    assert report.table(spec.table).soft_deleted == 3  # the gone listing's days, no request
    assert not [k for k in live(wired, spec, account) if str(k).startswith(f"{listing}|")]


def test_an_incremental_run_syncs_an_entity_only_when_its_cadence_is_due(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    daily, hot = catalog.by_name("expenses"), catalog.RESERVATIONS
    start = datetime.now(UTC)
    engine_for(wired, sandbox, account, start).run(daily, SyncMode.FULL, LOOKBACK)
    soon = engine_for(wired, sandbox, account, start + timedelta(hours=2))
    assert not soon.due(daily, SyncMode.INCREMENTAL)
    assert soon.due(daily, SyncMode.FULL) and soon.due(hot, SyncMode.INCREMENTAL)
    assert engine_for(wired, sandbox, account, start + timedelta(days=1)).due(
        daily, SyncMode.INCREMENTAL
    )


def test_an_unpaged_list_soft_deletes_what_its_answer_lacks_in_any_mode(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    spec = catalog.by_name("coupons")
    sync = engine_for(wired, sandbox, account)
    sync.run(spec, SyncMode.FULL, LOOKBACK)
    gone = sandbox.state.catalog_rows("coupons", account)[0]["id"]
    sandbox.state.delete_object("coupons", account, gone)
    report = sync.run(spec, SyncMode.INCREMENTAL, LOOKBACK)
    assert report.table(spec.table).soft_deleted == 1 and gone not in live(wired, spec, account)


def test_a_webhook_password_is_never_stored(wired: Wired, sandbox: SandboxServer) -> None:
    account = sandbox.state.account_ids()[0]
    spec = catalog.by_name("webhook_configurations")
    with wired.client(sandbox, account) as client:  # a registration, as `webhooks register` makes
        client.write("POST", "/webhooks/unifiedWebhooks", {
            "isEnabled": 1, "url": "https://x.example/hook", "login": "u", "password": "pw-s3cret",
        })  # fmt: skip
    engine_for(wired, sandbox, account).run(spec, SyncMode.FULL, LOOKBACK)
    with wired.engine.connect() as conn:
        dump = str(conn.execute(sa.select(schema.table(spec.table))).all())
    assert "pw-s3cret" not in dump and "[redacted]" in dump


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HOSTAWAY_CALENDAR_DAYS_BACK": "-3"}, "HOSTAWAY_CALENDAR_DAYS_BACK"),
        ({"HOSTAWAY_CALENDAR_DAYS_BACK": "٣"}, "HOSTAWAY_CALENDAR_DAYS_BACK"),
        ({"HOSTAWAY_CALENDAR_DAYS_AHEAD": "0"}, "HOSTAWAY_CALENDAR_DAYS_AHEAD"),
        ({"HOSTAWAY_CALENDAR_DAYS_AHEAD": "1100"}, "1096 days"),
    ],
)
def test_the_calendar_window_settings_are_validated_naming_the_variable(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_the_calendar_window_reaches_the_sync_assets_from_the_environment_only() -> None:
    from hostaway_pipeline.defs.resources import Hostaway

    assert Hostaway(Settings.from_env({})).window_days == (30, 365)
    env = {"HOSTAWAY_CALENDAR_DAYS_BACK": "0", "HOSTAWAY_CALENDAR_DAYS_AHEAD": "90"}
    assert Hostaway(Settings.from_env(env)).window_days == (0, 90)


def test_an_erased_guest_leaves_no_trace_in_the_calendar_days_that_embed_the_booking(
    wired: Wired, sandbox: SandboxServer
) -> None:
    state, spec = sandbox.state, listing_details.LISTING_CALENDAR
    account = state.account_ids()[0]
    today = datetime.now(UTC).date()
    name = f"Calendar Guest {uuid.uuid4().hex[:8]}"
    arrival = today + timedelta(days=10)
    stay = state.update_reservation(  # a stay inside the window, before its days are seeded
        account, state.reservations(account)[0]["id"], guestName=name, status="new", nights=3,
        arrivalDate=arrival.isoformat(), departureDate=(arrival + timedelta(days=3)).isoformat(),
    )  # fmt: skip
    sync = engine_for(wired, sandbox, account)
    for entity in (catalog.LISTINGS, catalog.RESERVATIONS, spec):
        sync.run(entity, SyncMode.FULL, LOOKBACK)

    def days_naming_the_guest() -> int:
        return sum(name in json.dumps(p) for p in live(wired, spec, account).values())

    assert days_naming_the_guest() == stay["nights"]  # stored as the API sent it
    erase_guest(wired.engine, account, reservation_id=stay["id"])
    assert days_naming_the_guest() == 0
    sync.run(spec, SyncMode.FULL, LOOKBACK)  # Hostaway still serves it: kept out on write
    assert days_naming_the_guest() == 0
    day = live(wired, spec, account)[f"{stay['listingMapId']}|{stay['arrivalDate']}"]
    assert day["erased"] is True and day["date"] == stay["arrivalDate"]  # the day stays
