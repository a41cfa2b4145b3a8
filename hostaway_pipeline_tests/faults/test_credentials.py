"""Credentials go wrong: tokens revoked mid-run, secrets rotated or wrong, between runs.

A revoked token is refreshed once and the run goes on; a rotated or wrong secret ends the run
with an AuthError that says to run `accounts set-secret` (and leaves the watermark alone), costs
Hostaway one rejected token request rather than one per queued fetch, and after set-secret the
next run converges. No secret or token ever appears in an error.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.client.errors import AuthError
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline_tests.faults.conftest import MakeSandbox
from hostaway_pipeline_tests.faults.support import (
    Wired,
    assert_converged,
    state_rows,
    sync_all,
    wire,
)
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(0)


def test_tokens_revoked_mid_run_are_refreshed_and_the_run_completes(
    wired: Wired, sandbox: SandboxServer, rng: random.Random
) -> None:
    account = sandbox.state.account_ids()[0]
    # Spaced apart, and only once every request refused since the last revocation has been retried
    # successfully: a token revoked again before a refused request's retry landed is a second
    # refusal, which the client rightly reports (refresh once, retry once).
    targets = sorted(10 * i + rng.randint(2, 6) for i in range(4))
    seen, mark = 0, 0
    answered: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def revoke(method: str, path: str, query: dict[str, str], aid: int | None) -> None:
        nonlocal seen, mark, answered
        with lock:
            seen += 1
            answered[(path, repr(sorted(query.items())))] += 1
            log = sandbox.stats.log
            refused = Counter(
                (r.path, repr(sorted(r.query.items())))
                for r in log[mark:]
                if r.status == 403  # a revoked token names no account: only this one syncs
            )
            if targets and seen >= targets[0] and not refused - answered:
                targets.pop(0)
                sandbox.state.revoke_tokens(account)
                mark, answered = len(log), Counter()

    sandbox.hooks.before_response = revoke
    try:
        reports = sync_all(wired, sandbox, account, SyncMode.FULL)
    finally:
        sandbox.hooks.before_response = None
    assert_converged(wired.engine, sandbox, account)
    refreshes = sum(r.api.token_refreshes for r in reports.values())
    assert refreshes >= 1
    # one new token per revocation that a request ran into, however many threads ran into it
    assert sandbox.stats.token_requests(account) == 1 + refreshes


@pytest.mark.parametrize("stream", [streams.LISTINGS, streams.RESERVATIONS, streams.MESSAGES])
def test_a_rotated_secret_fails_the_run_naming_set_secret_until_it_is_set(
    wired: Wired, sandbox: SandboxServer, stream: streams.StreamSpec
) -> None:
    account = sandbox.state.account_ids()[0]
    old_secret = sandbox.state.secret(account)
    sync_all(wired, sandbox, account, SyncMode.FULL)
    old_tokens = sandbox.state.tokens.tokens_of(account)
    sandbox.state.add_message(account, sandbox.state.conversations(account)[0]["id"], body="hi")
    new_secret = sandbox.state.rotate_secret(account)
    sandbox.state.revoke_tokens(account)  # Hostaway revokes the old key's tokens with the key
    before = state_rows(wired.engine, account)
    sandbox.stats.reset()

    with pytest.raises(AuthError) as raised, wired.client(sandbox, account) as client:
        SyncEngine(client, wired.engine, account).run(stream, SyncMode.FULL, LOOKBACK)

    err = raised.value
    assert f"hostaway-pipeline accounts set-secret {account}" in str(err)
    assert not err.retryable and err.account_id == account
    for secret in (old_secret, new_secret, *old_tokens):
        assert secret not in str(err) and secret not in repr(err.__dict__)
    assert state_rows(wired.engine, account) == before
    # one rejected token request, not one per fetch that was queued when the first one failed
    assert sandbox.stats.token_requests(account) == 1

    wired.repo.set_secret(account, new_secret)
    sync_all(wired, sandbox, account, SyncMode.FULL)
    assert_converged(wired.engine, sandbox, account)


def test_a_rotated_secret_keeps_working_while_its_token_lives(
    wired: Wired, sandbox: SandboxServer
) -> None:
    """Hostaway documents no cascade from a new secret to issued tokens: the stored one serves."""
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL)
    sandbox.state.rotate_secret(account)
    sandbox.state.add_reservation(account)
    sync_all(wired, sandbox, account, SyncMode.INCREMENTAL)
    assert_converged(wired.engine, sandbox, account)


def test_a_wrong_secret_at_registration_fails_at_the_token_endpoint(
    fresh_pg_url: str, secret_key: str, make_sandbox: MakeSandbox
) -> None:
    sandbox = make_sandbox()
    account = sandbox.state.account_ids()[0]
    real = sandbox.state.secret(account)
    w = wire(fresh_pg_url, secret_key, sandbox)
    w.repo.set_secret(account, "not-the-secret-" + real[:4])
    with pytest.raises(AuthError) as raised:
        sync_all(w, sandbox, account, SyncMode.FULL)
    assert "/accessTokens" in str(raised.value)
    assert f"accounts set-secret {account}" in str(raised.value)
    assert "not-the-secret" not in str(raised.value)
    assert sandbox.stats.token_requests(account) == 1
    w.engine.dispose()


def test_a_secret_rotated_while_messages_are_fetched_costs_one_rejected_token_request(
    wired: Wired, sandbox: SandboxServer
) -> None:
    """Fetches queued behind the first refusal must not each knock on the token endpoint."""
    account = sandbox.state.account_ids()[0]
    sync_all(wired, sandbox, account, SyncMode.FULL, LOOKBACK)
    rotated = threading.Event()

    def rotate_on_first_messages_page(method: str, path: str, query: dict[str, str],
                                      aid: int | None) -> None:  # fmt: skip
        if path.endswith("/messages") and not rotated.is_set():
            rotated.set()
            sandbox.state.rotate_secret(account)
            sandbox.state.revoke_tokens(account)

    sandbox.hooks.before_response = rotate_on_first_messages_page
    sandbox.stats.reset()
    try:
        with pytest.raises(AuthError), wired.client(sandbox, account, page_size=100) as client:
            SyncEngine(client, wired.engine, account).run(streams.MESSAGES, SyncMode.FULL, LOOKBACK)
    finally:
        sandbox.hooks.before_response = None
    assert sandbox.stats.token_requests(account) == 1
    fetched = sandbox.stats.count(path_prefix="/v1/conversations/")
    assert fetched <= 2 * client.config.max_concurrency  # the queue was dropped, not worked off
