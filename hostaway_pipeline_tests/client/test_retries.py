"""Retries over real HTTP: 5xx, 429 storms with and without Retry-After, timeouts, drops."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from hostaway_pipeline.catalog.spec import Pagination
from hostaway_pipeline.client import HostawayClient
from hostaway_pipeline.client.errors import RateLimitedError, RequestError, ServerError
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline_tests.client.conftest import MakeClient, fast_config
from hostaway_sandbox import FaultConfig


def test_twenty_percent_5xx_still_returns_complete_results(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(page_size=3)
    aid = client.account_id
    # Seeded, so the run is repeatable (about 20 requests: a few certainly fail).
    sandbox.faults = FaultConfig(error_rate_5xx=0.2, seed=9)
    listings = [r["id"] for p in client.pages("/listings") for r in p.records]
    reservations = [
        r["id"]
        for p in client.pages("/reservations", pagination=Pagination.KEYSET)
        for r in p.records
    ]
    assert sorted(listings) == sorted(r["id"] for r in sandbox.state.listings(aid))
    assert sorted(reservations) == sorted(r["id"] for r in sandbox.state.reservations(aid))
    failed = sum(n for status, n in sandbox.stats.by_status().items() if status >= 500)
    assert failed >= 3
    assert client.stats.retries == failed == client.stats.errors
    assert client.stats.requests == sandbox.stats.total


def test_a_429_storm_is_retried_and_counted(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client()
    client.get("/listings", {"limit": 1})
    sandbox.faults.storm_429(3)
    assert client.get("/listings")["result"]
    assert (client.stats.http_429, client.stats.retries) == (3, 3)
    assert client.stats.by_status == {200: 3, 429: 3}


def test_retry_after_is_honoured(sandbox: Any, make_client: MakeClient) -> None:
    sandbox.retry_after = True  # the sandbox then sends Retry-After: 1 and X-RateLimit-Retry-After
    client = make_client()
    client.get("/listings", {"limit": 1})
    sandbox.faults.storm_429(2)
    started = time.monotonic()
    client.get("/listings", {"limit": 1})
    assert time.monotonic() - started >= 2.0
    assert client.stats.http_429 == 2


def test_a_retry_after_longer_than_we_wait_raises_at_once(
    sandbox: Any, make_client: MakeClient
) -> None:
    sandbox.retry_after = True
    client = make_client(retry_after_max_s=0.5)
    client.get("/listings", {"limit": 1})
    sandbox.faults.storm_429(5)
    with pytest.raises(RateLimitedError, match="asked to wait 1 s") as caught:
        client.get("/listings")
    assert (caught.value.retryable, caught.value.retry_after_s) == (True, 1.0)
    assert client.stats.http_429 == 1


def test_endless_429_is_a_retryable_rate_limited_error(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(max_attempts=3)
    client.get("/listings", {"limit": 1})
    sandbox.faults.storm_429(10)
    with pytest.raises(RateLimitedError, match="still rate limited") as caught:
        client.get("/reservations")
    err = caught.value
    assert (err.endpoint, err.status, err.retryable) == ("/reservations", 429, True)
    assert client.stats.http_429 == 3 and client.stats.retries == 2


def test_timeouts_and_dropped_connections_are_retried(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(read_timeout_s=0.3)
    client.get("/listings", {"limit": 1})
    sandbox.faults.timeout_s = 1.0
    sandbox.faults.queue("timeout", 1)
    sandbox.faults.queue("drop", 2)
    sandbox.faults.queue("html500", 1)
    assert client.get("/listings")["result"]
    assert client.stats.retries == 4 and client.stats.errors == 4


def test_persistent_5xx_is_a_retryable_server_error(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client(max_attempts=3)
    sandbox.faults.queue("503", 10, path_prefix="/conversations")
    with pytest.raises(ServerError) as caught:
        client.get("/conversations")
    err = caught.value
    aid = client.account_id
    assert str(err).startswith(f"account {aid}: Hostaway kept failing (503 at /conversations: ")
    assert "after 3 attempt(s)" in str(err) and err.retryable and err.status == 503


def test_an_unreachable_api_is_a_server_error_after_the_retries() -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = fast_config(f"http://127.0.0.1:{port}/v1", max_attempts=3, connect_timeout_s=0.5)
    client = HostawayClient(7, "s3cret-value-xyz", cfg, MemoryTokenStore(), MemoryRateLimitStore())
    with pytest.raises(ServerError, match=r"no answer from 127\.0\.0\.1") as caught:
        client.get("/listings")
    assert caught.value.endpoint == "/accessTokens" and caught.value.retryable
    assert (client.stats.requests, client.stats.retries) == (3, 2)


def test_other_4xx_is_a_request_error_without_retry(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(RequestError, match="answered 404 at /conversations/1/messages") as caught:
        client.get("/conversations/1/messages")
    assert not caught.value.retryable
    assert sandbox.stats.count(path_prefix="/v1/conversations") == 1
