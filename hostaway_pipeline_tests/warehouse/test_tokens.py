"""The durable token cache: sealed at rest, compare-and-swap invalidation, cross-process lock."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.support import processes

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
HOST = "https://api.hostaway.com"


def token(value: str) -> StoredToken:
    return StoredToken(value, NOW, NOW + timedelta(days=24))


def test_save_load_and_replace(engine: sa.Engine, box: SecretBox) -> None:
    store = SqlTokenStore(engine, box)
    assert store.load_token(HOST, 1) is None
    store.save_token(HOST, 1, token("first"))
    store.save_token(HOST, 1, token("second"))
    store.save_token(HOST, 2, token("other"))
    assert store.load_token(HOST, 1) == token("second")
    assert store.load_token(HOST, 2) == token("other")


def test_tokens_are_sealed_at_rest(engine: sa.Engine, box: SecretBox) -> None:
    SqlTokenStore(engine, box).save_token(HOST, 1, token("plain-token-123"))
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.access_tokens)).one()
    assert "plain-token-123" not in repr(tuple(row))
    assert box.open(row.token_encrypted) == "plain-token-123"


def test_invalidate_deletes_only_the_token_it_names(engine: sa.Engine, box: SecretBox) -> None:
    store = SqlTokenStore(engine, box)
    store.save_token(HOST, 1, token("old"))
    store.save_token(HOST, 1, token("new"))  # another process refreshed meanwhile
    assert store.invalidate_token(HOST, 1, "old") is False
    assert store.load_token(HOST, 1) == token("new")
    assert store.invalidate_token(HOST, 1, "new") is True
    assert store.load_token(HOST, 1) is None
    assert store.invalidate_token(HOST, 1, "new") is False


def test_a_token_sealed_with_another_key_is_a_cache_miss(engine: sa.Engine, box: SecretBox) -> None:
    SqlTokenStore(engine, SecretBox(Fernet.generate_key())).save_token(HOST, 1, token("t"))
    assert SqlTokenStore(engine, box).load_token(HOST, 1) is None


def test_issue_lock_excludes_a_second_process(any_db_url: str, secret_key: str) -> None:
    from hostaway_pipeline_tests.warehouse.workers import hold_issue_lock, take_issue_lock

    ctx = processes.context()
    events, release = ctx.Queue(), ctx.Event()
    holder = ctx.Process(target=hold_issue_lock, args=(any_db_url, secret_key, 7, release, events))
    waiter = ctx.Process(target=take_issue_lock, args=(any_db_url, secret_key, 7, events))
    try:
        holder.start()
        assert events.get(timeout=waits.PROCESS_S)[:2] == ("acquired", "holder")
        waiter.start()
        assert events.get(timeout=waits.PROCESS_S)[:2] == ("asking", "waiter")
        with pytest.raises(queue.Empty):  # the waiter is blocked while the holder holds the lock
            events.get(timeout=0.7)
        release.set()
        seen = {
            (kind, who): at
            for kind, who, at in (events.get(timeout=waits.PROCESS_S) for _ in range(2))
        }
        assert seen[("acquired", "waiter")] >= seen[("released", "holder")]
    finally:
        release.set()
        for proc in (holder, waiter):
            proc.join(timeout=waits.PROCESS_S)
    assert holder.exitcode == waiter.exitcode == 0


def test_issue_lock_is_released_when_its_holder_dies(
    any_db_url: str, secret_key: str, engine: sa.Engine, box: SecretBox
) -> None:
    from hostaway_pipeline_tests.warehouse.workers import hold_issue_lock

    ctx = processes.context()
    events, release = ctx.Queue(), ctx.Event()
    holder = ctx.Process(target=hold_issue_lock, args=(any_db_url, secret_key, 8, release, events))
    holder.start()
    assert events.get(timeout=waits.PROCESS_S)[:2] == ("acquired", "holder")
    holder.kill()
    holder.join(timeout=waits.PROCESS_S)
    got = threading.Event()

    def take() -> None:
        with SqlTokenStore(engine, box).issue_lock(HOST, 8):
            got.set()

    threading.Thread(target=take, daemon=True).start()
    assert got.wait(timeout=15)


def test_issue_locks_of_different_accounts_are_independent(
    engine: sa.Engine, box: SecretBox
) -> None:
    store = SqlTokenStore(engine, box)
    with store.issue_lock(HOST, 1), store.issue_lock(HOST, 2):
        pass
    with store.issue_lock(HOST, 1):  # released: can be taken again
        pass
