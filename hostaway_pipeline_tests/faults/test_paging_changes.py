"""Records change, appear and disappear while a sync pages through them.

A hook mutates the sandbox between the pages it serves (updates, cancellations, new reservations,
listings and conversations, guest messages, deleted listings). The run itself may miss what moved
behind its cursor; the invariants must hold after it, the next incremental run must converge, and
a full run must soft-delete exactly the listings that are gone.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest

from hostaway_pipeline.sync.engine import SyncMode
from hostaway_pipeline_tests.faults.mutations import Changes
from hostaway_pipeline_tests.faults.mutations import mutate as mutate_randomly
from hostaway_pipeline_tests.faults.support import (
    Wired,
    assert_converged,
    assert_invariants,
    rounds_until,
    stored,
    sync_all,
)
from hostaway_sandbox import SandboxServer

# Longer than the time between these runs (seconds): what the engine needs to re-read rows an
# offset listing skipped while rows before them were deleted (see support.invariant_problems).
LOOKBACK = timedelta(minutes=1)


@dataclass
class ChurnTally:
    runs: int = 0
    changes_during_runs: int = 0
    pages_served: int = 0


def churn_round(
    w: Wired, server: SandboxServer, account_id: int, rng: random.Random, mode: SyncMode,
    rate: float, changes: Changes, tally: ChurnTally,
) -> None:  # fmt: skip
    """One run while every page the sandbox serves is preceded, with probability `rate`, by a
    random change to the account."""
    lock = threading.Lock()

    def hook(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        if method != "GET" or aid != account_id:
            return
        with lock:
            tally.pages_served += 1
            if rng.random() < rate:
                before = changes.ops
                mutate_randomly(server, account_id, rng, 1, changes)
                tally.changes_during_runs += changes.ops - before

    server.hooks.before_response = hook
    try:
        sync_all(w, server, account_id, mode, LOOKBACK)
    finally:
        server.hooks.before_response = None
    tally.runs += 1


def churn_campaign(
    w: Wired, server: SandboxServer, account_id: int, rng: random.Random, rounds: int,
    tally: ChurnTally, deadline: float | None = None, min_changes: int = 0, max_rounds: int = 0,
) -> None:  # fmt: skip
    """`rounds` churned runs (more, up to `max_rounds`, until `min_changes` changes landed during
    runs: a random rate can be unlucky, so the churn is waited for, not hoped for)."""
    changes = Changes()
    sync_all(w, server, account_id, SyncMode.FULL, LOOKBACK)
    for _ in rounds_until(rounds, lambda: tally.changes_during_runs >= min_changes, max_rounds):
        if deadline is not None and time.monotonic() > deadline:
            break
        mode = rng.choice([SyncMode.INCREMENTAL, SyncMode.INCREMENTAL, SyncMode.FULL])
        churn_round(w, server, account_id, rng, mode, rng.uniform(0.2, 0.8), changes, tally)
        assert_invariants(w.engine, server, account_id, LOOKBACK, strict=False)
    sync_all(w, server, account_id, SyncMode.INCREMENTAL, LOOKBACK)
    assert_converged(w.engine, server, account_id, ignore=changes.deleted_listings)
    sync_all(w, server, account_id, SyncMode.FULL, LOOKBACK)
    assert_converged(w.engine, server, account_id)


def test_changes_while_paging_converge_on_the_next_incremental_run(
    wired: Wired, sandbox: SandboxServer, rng: random.Random
) -> None:
    account = sandbox.state.account_ids()[0]
    tally = ChurnTally()
    churn_campaign(
        wired, sandbox, account, rng, rounds=6, tally=tally, min_changes=11, max_rounds=30
    )
    print(tally)
    assert tally.changes_during_runs > 10  # runs really were churned (in up to 30 rounds)


def test_a_message_in_the_second_the_conversation_was_read_is_not_missed(
    wired: Wired, sandbox: SandboxServer
) -> None:
    """Hostaway stamps whole seconds: a guest message right after we read its conversation leaves
    `messageReceivedOn` as it was (the same second), so "unchanged" is not "no new messages"."""
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    conversation = sandbox.state.conversations(account)[0]["id"]
    pinned: list[float] = []

    def first_message_as_the_list_is_read(
        method: str, path: str, query: dict[str, str], aid: int | None
    ) -> None:
        # The second in which the incremental reads the conversation list, as Hostaway would stamp
        # a message arriving then (pinning an earlier second would stamp it before the run began).
        if path == "/v1/conversations" and aid == account and not pinned:
            pinned.append(float(int(time.time())))
            sandbox.state.wall_clock = lambda: pinned[0]
            sandbox.state.add_message(
                account, conversation, body="Are we there yet?", incoming=True
            )

    sandbox.hooks.before_response = first_message_as_the_list_is_read
    try:
        sync_all(wired, sandbox, account, SyncMode.INCREMENTAL)  # reads the conversation
    finally:
        sandbox.hooks.before_response = None
    assert pinned, "the incremental run never read the conversation list"
    # Both messages are stamped in that second, however long the rest of the sync took.
    sandbox.state.add_message(account, conversation, body="Nevermind, found it", incoming=True)
    sandbox.state.wall_clock = time.time
    while time.time() < pinned[0] + 1.05:  # the next run starts in a later second, as it would
        time.sleep(0.05)
    sync_all(wired, sandbox, account, SyncMode.INCREMENTAL)
    assert_converged(wired.engine, sandbox, account)


def test_a_listing_deleted_mid_listing_is_soft_deleted_and_the_row_it_shifted_is_not(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    ids = [row["id"] for row in sandbox.state.listings(account)]  # served by id, 5 per page
    deleted = False

    def delete_first_before_page_two(method: str, path: str, query: dict[str, str],
                                     aid: int | None) -> None:  # fmt: skip
        nonlocal deleted
        if path == "/v1/listings" and query.get("offset") == "5" and not deleted:
            sandbox.state.delete_listing(account, ids[0])  # page 2 now starts at ids[6]
            deleted = True

    sandbox.hooks.before_response = delete_first_before_page_two
    try:
        reports = sync_all(wired, sandbox, account, SyncMode.FULL)
    finally:
        sandbox.hooks.before_response = None
    rows = stored(wired.engine, "listings", account)
    assert rows[ids[5]][1] is False  # skipped by the shift, kept alive by the verification pass
    assert reports["listings"].table("listings").soft_deleted == 0  # ids[0] was seen this run
    reports = sync_all(wired, sandbox, account, SyncMode.FULL)
    assert reports["listings"].table("listings").soft_deleted == 1
    assert stored(wired.engine, "listings", account)[ids[0]][1] is True
    assert_converged(wired.engine, sandbox, account)


@pytest.mark.soak
def test_soak_changes_while_paging(
    wired: Wired, sandbox: SandboxServer, rng: random.Random
) -> None:
    from hostaway_pipeline_tests.faults.soak import record, soak_deadline

    account = sandbox.state.account_ids()[0]
    tally = ChurnTally()
    deadline = soak_deadline(share=0.15)
    campaigns = 0
    while time.monotonic() < deadline:
        churn_campaign(wired, sandbox, account, rng, rounds=10, tally=tally, deadline=deadline)
        campaigns += 1
    record("changes_while_paging", {**tally.__dict__, "campaigns": campaigns})
