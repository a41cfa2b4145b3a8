"""Tokens over real HTTP: cached in memory and in the store, single flight, refresh on 403."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from hostaway_pipeline.client import HostawayClient
from hostaway_pipeline.client.auth import clear_memory_cache
from hostaway_pipeline.client.config import api_host
from hostaway_pipeline.client.errors import AuthError
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.client import workers
from hostaway_pipeline_tests.client.conftest import MakeClient, Stores, Warehouse, fast_config
from hostaway_pipeline_tests.support import processes
from hostaway_sandbox import SandboxServer, SeedSpec


def test_token_is_reused_from_memory_then_from_the_store(
    sandbox: Any, make_client: MakeClient, stores: Stores
) -> None:
    first = make_client()
    first.get("/listings", {"limit": 1})
    assert (first.stats.token_source, first.stats.token_requests) == ("issued", 1)
    stored = stores.tokens.load_token(api_host(sandbox.url), first.account_id)
    assert stored is not None and stored.expires_at - stored.issued_at > timedelta(days=700)

    same_process = make_client()
    same_process.get("/listings", {"limit": 1})
    assert (same_process.stats.token_source, same_process.stats.token_requests) == ("memory", 0)

    clear_memory_cache()  # as a new process would start
    new_process = make_client()
    new_process.get("/listings", {"limit": 1})
    assert (new_process.stats.token_source, new_process.stats.token_requests) == ("database", 0)
    assert sandbox.stats.token_requests(first.account_id) == 1


def test_threads_of_one_client_share_one_token_request(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(max_concurrency=4)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.get("/listings", {"limit": 1}), range(8)))
    assert client.stats.token_requests == 1
    assert sandbox.stats.token_requests(client.account_id) == 1
    assert sandbox.stats.by_status() == {200: 9}


def test_five_processes_starting_together_issue_one_token(
    sandbox: Any, warehouse: Warehouse
) -> None:
    aid = sandbox.state.account_ids()[0]
    ctx = processes.context()
    barrier, results = ctx.Barrier(5), ctx.Queue()
    cfg = {"window_s": 1.0, "token_activation_delay_s": 0.1}
    args = (sandbox.url, aid, sandbox.state.secret(aid), warehouse.url, warehouse.secret_key)
    procs = [
        ctx.Process(target=workers.call_listings, args=(*args, cfg, 1, barrier, results))
        for _ in range(5)
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=waits.PROCESS_S) for _ in procs]
    for p in procs:
        p.join(timeout=waits.PROCESS_S)
    assert [r["error"] for r in reports] == [None] * 5
    assert sandbox.stats.token_requests(aid) == 1
    assert sum(r["token_requests"] for r in reports) == 1
    assert sorted(r["token_source"] for r in reports) == ["database"] * 4 + ["issued"]
    assert sandbox.stats.by_status() == {200: 6}


def test_a_revoked_token_costs_exactly_one_refresh(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client()
    client.get("/listings", {"limit": 1})
    assert sandbox.state.revoke_tokens(client.account_id) == 1
    client.get("/listings", {"limit": 1})
    client.get("/listings", {"limit": 1})
    assert (client.stats.token_refreshes, client.stats.token_requests) == (1, 2)
    assert sandbox.stats.by_status() == {200: 5, 403: 1}


def test_refresh_keeps_a_newer_token_another_process_stored(
    sandbox: Any, make_client: MakeClient, stores: Stores
) -> None:
    client = make_client()
    aid = client.account_id
    client.get("/listings", {"limit": 1})
    old = stores.tokens.load_token(api_host(sandbox.url), aid)
    assert old is not None
    # Another process meets a 403 first, mints a new token and stores it.
    reply = requests.post(
        sandbox.url + "/accessTokens",
        data={
            "grant_type": "client_credentials",
            "client_id": aid,
            "client_secret": sandbox.state.secret(aid),
            "scope": "general",
        },
        timeout=5,
    )
    newer = StoredToken(reply.json()["access_token"], datetime.now(UTC), old.expires_at)
    stores.tokens.save_token(api_host(sandbox.url), aid, newer)
    sandbox.state.revoke_token(old.token)

    client.get("/listings", {"limit": 1})  # 403 with the old token, then the newer one
    assert stores.tokens.load_token(api_host(sandbox.url), aid) == newer
    assert client.stats.token_requests == 1  # no new mint: the stored token was used
    assert client.stats.token_refreshes == 1
    assert stores.tokens.invalidate_token(api_host(sandbox.url), aid, old.token) is False


def test_a_token_expiring_within_the_margin_is_replaced(
    sandbox: Any, make_client: MakeClient, stores: Stores
) -> None:
    aid = sandbox.state.account_ids()[0]
    now = datetime.now(UTC)
    doomed = StoredToken("about-to-expire", now - timedelta(days=700), now + timedelta(hours=2))
    stores.tokens.save_token(api_host(sandbox.url), aid, doomed)
    client = make_client()
    client.get("/listings", {"limit": 1})
    assert (client.stats.token_source, client.stats.token_requests) == ("issued", 1)
    assert sandbox.stats.by_status() == {200: 2}


def test_a_fresh_token_is_not_used_before_it_activates() -> None:
    server = SandboxServer(
        seed=SeedSpec(accounts=1, listings=2, reservations=2),
        window_s=1.0,
        token_activation_delay_s=0.6,
    )
    with server:
        aid = server.state.account_ids()[0]
        cfg = fast_config(server.url, token_activation_delay_s=0.6)
        client = HostawayClient(
            aid, server.state.secret(aid), cfg, MemoryTokenStore(), MemoryRateLimitStore()
        )
        started = time.monotonic()
        client.get("/listings")
        assert time.monotonic() - started >= 0.6
        assert server.stats.by_status() == {200: 2}  # no 403 "not active yet"
        client.close()


def test_a_rejected_secret_is_an_auth_error_naming_the_fix(
    sandbox: Any, make_client: MakeClient
) -> None:
    wrong = "5f2b9c0e7a1d4e3f8b6c2a9d0e1f3a4b"
    client = make_client(secret=wrong)
    with pytest.raises(AuthError) as caught:
        client.get("/listings")
    err = caught.value
    aid = client.account_id
    assert str(err) == (
        f"account {aid}: Hostaway rejected the client secret (403 at /accessTokens); "
        f"update it with `hostaway-pipeline accounts set-secret {aid}`"
    )
    assert (err.account_id, err.endpoint, err.status, err.retryable) == (
        aid,
        "/accessTokens",
        403,
        False,
    )
    assert err.request_id and len(err.request_id) == 32
    assert client.stats.token_requests == 1 and sandbox.stats.total == 1  # not retried


def test_a_second_403_after_refresh_is_an_auth_error(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client()
    sandbox.faults.queue("403", 2, path_prefix="/listings")
    with pytest.raises(AuthError, match=r"\(403 at /listings\) again after a token refresh"):
        client.get("/listings")
    assert client.stats.token_refreshes == 1
    assert sandbox.stats.count(path_prefix="/v1/listings") == 2


class _SlowInvalidateStore(MemoryTokenStore):
    """Runs `meanwhile` inside invalidate_token, before the store forgets the token: the moment
    another thread of the process, missing memory, reads the soon-refused token from the store."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Any = None

    def invalidate_token(self, api_host: str, account_id: int, token: str) -> bool:
        if self.meanwhile is not None:
            self.meanwhile, run = None, self.meanwhile
            run()
        return super().invalidate_token(api_host, account_id, token)


def test_a_thread_reading_the_store_during_a_refresh_does_not_bring_the_refused_token_back(
    sandbox: Any, make_client: MakeClient
) -> None:
    store = _SlowInvalidateStore()
    stores_ = Stores(store, MemoryRateLimitStore())
    client, other_thread = make_client(stores_=stores_), make_client(stores_=stores_)
    client.get("/listings", {"limit": 1})
    sandbox.state.revoke_tokens(client.account_id)
    clear_memory_cache()  # the other thread misses memory and goes to the store
    seen: list[str] = []
    store.meanwhile = lambda: seen.append(other_thread._auth.token())

    client.get("/listings", {"limit": 1})  # 403, refresh, retry: must not reuse the refused token

    assert seen and sandbox.state.tokens.tokens_of(client.account_id) == seen
    assert client.stats.token_refreshes == 1
    assert sandbox.stats.token_requests(client.account_id) == 2
    assert sandbox.stats.by_status() == {200: 4, 403: 1}  # 2 token POSTs, 2 GETs
