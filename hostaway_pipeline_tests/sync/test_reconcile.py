"""The cheaper full reconcile, against the sandbox over HTTP and the real PostgreSQL.

A full sync refetches a conversation's messages only when the conversation is new, never verified,
its change fields moved, or it falls in the rolling re-verification slice (sync/reverify.py). Time
is driven by a clock handed to the engine, one simulated day per full sync: no real waiting.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.settings import Settings, SettingsError
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode, utcnow
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.support.wiring import Wired, sandbox_payloads, warehouse_payloads, wire
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(minutes=5)
MESSAGES_ENDPOINT = ("GET", "/v1/conversations/{id}/messages")


class Days:
    """The engine's clock: now, until `advance` moves it on by whole days."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int = 1) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def wired(fresh_pg_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    w = wire(fresh_pg_url, secret_key, sandbox)
    yield w
    w.engine.dispose()


def full_sync(
    w: Wired, server: SandboxServer, account: int, clock: Days, reverify_days: int = 7
) -> SyncReport:
    """One full messages sync (conversations with it), counting its requests from a clean log."""
    every = timedelta(days=Settings.from_env({
        "HOSTAWAY_MESSAGE_REVERIFY_DAYS": str(reverify_days)
    }).message_reverify_days)  # fmt: skip
    server.stats.reset()
    with w.client(server, account) as client:
        # A few dozen conversations would be re-read whole (HOSTAWAY_FULL_REREAD_MAX_REQUESTS):
        # a threshold of 0 keeps them on the slice, as a typical account's 1,500 are.
        engine = SyncEngine(client, w.engine, account, clock=clock, reverify_every=every,
                            reread_max_requests=0)  # fmt: skip
        return engine.run(streams.MESSAGES, SyncMode.FULL, LOOKBACK)


def assert_mirrors(w: Wired, server: SandboxServer, account: int) -> None:
    """Live conversations and messages equal the sandbox's, payload for payload."""
    for name in ("conversations", "messages"):
        ours, theirs = (
            warehouse_payloads(w.engine, name, account),
            sandbox_payloads(server, name, account),
        )
        assert ours.keys() == theirs.keys(), f"{name}: ids differ"
        assert [i for i in theirs if theirs[i] != ours[i]] == [], f"{name}: payloads differ"


def message_requests(server: SandboxServer) -> int:
    return server.stats.by_endpoint().get(MESSAGES_ENDPOINT, 0)


def stored_body(w: Wired, account: int, message_id: int) -> str:
    messages = schema.table("messages")
    with w.engine.connect() as conn:
        payload = conn.scalar(
            sa.select(messages.c.payload).where(
                messages.c.account_id == account, messages.c.id == message_id
            )
        )
    return str(payload["body"])


def test_a_second_full_sync_of_an_unchanged_account_refetches_only_the_slice(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    conversations = len(sandbox.state.conversations(account))
    clock = Days()
    first = full_sync(wired, sandbox, account, clock)
    assert message_requests(sandbox) == conversations  # nothing stored: every one is fetched
    assert first.parents_changed == conversations and first.parents_skipped == 0

    clock.advance()
    second = full_sync(wired, sandbox, account, clock)

    slice_size = math.ceil(conversations / 7)
    assert message_requests(sandbox) == slice_size  # was `conversations` before this change
    pages = math.ceil(conversations / 100)
    # The listing, once, and the slice (the token came from the warehouse: no token request).
    assert sandbox.stats.by_endpoint() == {
        ("GET", "/v1/conversations"): pages,
        MESSAGES_ENDPOINT: slice_size,
    }
    assert sandbox.stats.total == pages + slice_size
    assert second.reverify_slice == slice_size == second.parents_reverified
    assert second.parents_changed == slice_size
    assert second.parents_skipped == conversations - slice_size
    assert second.table("messages").soft_deleted == 0  # skipped is never deleted
    assert_mirrors(wired, sandbox, account)


def test_a_conversation_with_a_new_message_is_refetched(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    clock = Days()
    full_sync(wired, sandbox, account, clock)
    # The last conversation by id is the last of the slices (ties break by id): only its change
    # fields can bring it into the next full sync.
    target = max(c["id"] for c in sandbox.state.conversations(account))
    sandbox.state.add_message(account, target, body="Can we check in early?", incoming=True)

    clock.advance()
    report = full_sync(wired, sandbox, account, clock)

    assert report.table("messages").inserted == 1
    assert report.parents_changed == report.reverify_slice + 1
    assert message_requests(sandbox) == report.reverify_slice + 1
    assert_mirrors(wired, sandbox, account)


def test_an_edit_that_moves_no_change_field_is_repaired_within_n_days(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account, days = sandbox.state.account_ids()[0], 3
    clock = Days()
    full_sync(wired, sandbox, account, clock, days)
    target = max(c["id"] for c in sandbox.state.conversations(account))
    before = sandbox.state.conversations(account)
    edited = sandbox.state.messages(account, target)[0]["id"]  # the oldest: not in the summary
    sandbox.state.edit_message(account, target, edited, body="Door code is 4711 (corrected)")
    assert sandbox.state.conversations(account) == before  # no change field (nor payload) moved

    stale_days = 0
    for day in range(1, days + 1):
        clock.advance()
        report = full_sync(wired, sandbox, account, clock, days)
        assert report.table("messages").soft_deleted == 0
        if stored_body(wired, account, edited) != "Door code is 4711 (corrected)":
            stale_days = day
    # The last conversation of the order waits for the last slice: stale for N - 1 days, not N.
    assert stale_days == days - 1
    assert_mirrors(wired, sandbox, account)


def test_a_missed_full_sync_is_caught_up_by_the_next_one(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account, days = sandbox.state.account_ids()[0], 3
    conversations = len(sandbox.state.conversations(account))
    clock = Days()
    full_sync(wired, sandbox, account, clock, days)
    clock.advance(days)  # no full sync for N days: every conversation is due
    report = full_sync(wired, sandbox, account, clock, days)
    assert report.reverify_slice == conversations == message_requests(sandbox)


def test_deleted_conversations_are_still_detected_and_nothing_else_is_deleted(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    clock = Days()
    full_sync(wired, sandbox, account, clock)
    gone = max(c["id"] for c in sandbox.state.conversations(account))  # outside the next slice
    gone_messages = len(sandbox.state.messages(account, gone))
    sandbox.state.delete_conversation(account, gone)

    clock.advance()
    report = full_sync(wired, sandbox, account, clock)

    assert report.table("conversations").soft_deleted == 1
    assert report.table("messages").soft_deleted == gone_messages > 0
    assert_mirrors(wired, sandbox, account)  # every other conversation's messages live


@pytest.mark.parametrize("raw", ["0", "-1", "seven", "366"])
def test_the_reverify_setting_is_validated_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="HOSTAWAY_MESSAGE_REVERIFY_DAYS"):
        Settings.from_env({"HOSTAWAY_MESSAGE_REVERIFY_DAYS": raw})


def test_the_reverify_setting_reaches_the_sync_assets_from_the_environment_only() -> None:
    from hostaway_pipeline.defs.resources import Hostaway

    assert Hostaway(Settings.from_env({})).reverify_every == timedelta(days=7)
    settings = Settings.from_env({"HOSTAWAY_MESSAGE_REVERIFY_DAYS": "2"})
    assert Hostaway(settings).reverify_every == timedelta(days=2)
