"""The sync engine against the sandbox over HTTP and the real warehouses (PostgreSQL and SQLite)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import Incremental
from hostaway_pipeline.client.errors import ServerError
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.state import load_state
from hostaway_pipeline_tests.support.wiring import ENGINE_STREAMS, Wired, assert_mirrors, wire
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(minutes=5)


@pytest.fixture
def wired(any_db_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    w = wire(any_db_url, secret_key, sandbox)
    yield w
    w.engine.dispose()


def sync_all(w: Wired, server: SandboxServer, account_id: int, mode: SyncMode) -> dict[str, object]:
    client = w.client(server, account_id)
    engine = SyncEngine(client, w.engine, account_id)
    reports = {spec.name: engine.run(spec, mode, LOOKBACK) for spec in ENGINE_STREAMS}
    client.close()
    return reports


def test_full_sync_mirrors_the_sandbox(wired: Wired, sandbox: SandboxServer) -> None:
    account = sandbox.state.account_ids()[0]
    reports = sync_all(wired, sandbox, account, SyncMode.FULL)
    assert_mirrors(wired.engine, sandbox, account)
    other = sandbox.state.account_ids()[1]
    with wired.engine.connect() as conn:  # nothing of the other account was touched
        assert conn.scalar(sa.select(sa.func.count()).select_from(schema.table("reservations"))
                           .where(schema.table("reservations").c.account_id == other)) == 0  # fmt: skip
    messages = reports["messages"]
    assert messages.table("messages").inserted == len(sandbox.state.messages(account))  # type: ignore[attr-defined]


def test_incremental_sync_after_changes_converges_with_only_the_requests_it_needs(
    wired: Wired, sandbox: SandboxServer
) -> None:
    state = sandbox.state
    account = state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    reservations = state.reservations(account)
    state.update_reservation(account, reservations[3]["id"], numberOfGuests=9)
    state.cancel_reservation(account, reservations[5]["id"])
    state.add_reservation(account)
    conversation = state.conversations(account)[2]
    state.add_message(account, conversation["id"], body="Late arrival?", incoming=True)
    state.update_listing(account, state.listings(account)[1]["id"], price=321)
    sandbox.stats.reset()

    reports = sync_all(wired, sandbox, account, SyncMode.INCREMENTAL)

    assert_mirrors(wired.engine, sandbox, account)
    conversation_pages = math.ceil(len(state.conversations(account)) / 100)
    by_endpoint = sandbox.stats.by_endpoint()
    assert by_endpoint.get(("GET", "/v1/listings")) == 1
    assert by_endpoint.get(("GET", "/v1/reservations")) == 1
    assert by_endpoint.get(("GET", "/v1/conversations")) == conversation_pages
    assert by_endpoint.get(("GET", "/v1/conversations/{id}/messages")) == 1  # the one that moved
    assert sandbox.stats.token_requests(account) == 0  # the token came from the database
    # updated + cancelled + the one whose guest wrote (its latestActivityOn moved)
    assert reports["reservations"].table("reservations").updated == 3  # type: ignore[attr-defined]
    assert reports["messages"].table("messages").inserted == 1  # type: ignore[attr-defined]


def test_full_sync_soft_deletes_vanished_rows_and_restores_returning_ones(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    gone = sandbox.state.listings(account)[0]["id"]
    sandbox.state.delete_listing(account, gone)

    sync_all(wired, sandbox, account, SyncMode.INCREMENTAL)  # incremental never deletes
    listings = schema.table("listings")
    deleted_at = sa.select(listings.c.deleted_at).where(
        listings.c.account_id == account, listings.c.id == gone
    )
    with wired.engine.connect() as conn:
        assert conn.scalar(deleted_at) is None
    reports = sync_all(wired, sandbox, account, SyncMode.FULL)
    assert reports["listings"].table("listings").soft_deleted == 1  # type: ignore[attr-defined]
    with wired.engine.connect() as conn:
        assert conn.scalar(deleted_at) is not None
    assert_mirrors(wired.engine, sandbox, account)


def test_a_failed_run_does_not_advance_the_watermark(wired: Wired, sandbox: SandboxServer) -> None:
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    with wired.engine.connect() as conn:
        before = load_state(conn, account, "messages")
    sandbox.state.add_message(account, sandbox.state.conversations(account)[0]["id"], body="hi")
    sandbox.faults.update({"error_rate_5xx": 1.0})
    client = wired.client(sandbox, account, max_attempts=2)
    with pytest.raises(ServerError) as raised:
        SyncEngine(client, wired.engine, account).run(
            streams.MESSAGES, SyncMode.INCREMENTAL, LOOKBACK
        )
    assert raised.value.account_id == account
    with wired.engine.connect() as conn:
        assert load_state(conn, account, "messages") == before
    sandbox.faults.clear()
    sync_all(wired, sandbox, account, SyncMode.INCREMENTAL)
    assert_mirrors(wired.engine, sandbox, account)


def test_newest_first_strategy_stops_paging_at_the_watermark(
    wired: Wired, sandbox: SandboxServer
) -> None:
    spec = dataclasses.replace(
        streams.RESERVATIONS, incremental=Incremental.NEWEST_FIRST, cursor_field="updatedOn"
    )
    account = sandbox.state.account_ids()[0]
    client = wired.client(sandbox, account, page_size=10)
    engine = SyncEngine(client, wired.engine, account)
    engine.run(spec, SyncMode.FULL, LOOKBACK)
    changed = sandbox.state.reservations(account)[7]["id"]
    sandbox.state.update_reservation(account, changed, numberOfGuests=4)
    sandbox.stats.reset()

    report = engine.run(spec, SyncMode.INCREMENTAL, LOOKBACK)

    assert sandbox.stats.count(path_prefix="/v1/reservations") == 1  # one page of 10, then stop
    counts = report.table("reservations")
    assert counts.fetched == 10 and counts.updated == 1 and not counts.listing_complete
    assert counts.skipped == 10 - counts.updated - counts.unchanged > 0
