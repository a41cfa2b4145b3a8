"""Malformed bodies raise typed errors; no error or log line ever shows a secret or token."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from hostaway_pipeline.catalog.spec import Pagination
from hostaway_pipeline.client import HostawayClient
from hostaway_pipeline.client.config import api_host
from hostaway_pipeline.client.errors import (
    AuthError,
    HostawayError,
    MalformedResponseError,
    RequestError,
    ServerError,
)
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline_tests.client.conftest import MakeClient, Stores, fast_config
from hostaway_pipeline_tests.client.stub_api import STUB_TOKEN, envelope, stub_api


@pytest.mark.parametrize("kind", ["truncated", "html200"])
def test_a_bad_200_body_is_retried_twice_then_malformed(
    sandbox: Any, make_client: MakeClient, kind: str
) -> None:
    client = make_client()
    sandbox.faults.queue(kind, 3, path_prefix="/listings")
    with pytest.raises(MalformedResponseError, match="invalid response at /listings") as caught:
        client.get("/listings")
    assert caught.value.retryable  # not JSON: probably transient, a later run may succeed
    assert sandbox.stats.count(path_prefix="/v1/listings") == 3
    assert "truncated?" in str(caught.value) or "bytes of text/html" in str(caught.value)
    assert "Bad Gateway" not in str(caught.value)  # the body's text is never quoted


def test_one_truncated_body_is_survived(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client()
    sandbox.faults.queue("truncated", 1, path_prefix="/reservations")
    pages = list(client.pages("/reservations", pagination=Pagination.KEYSET))
    assert sum(len(p.records) for p in pages) == 35
    assert client.stats.retries == 1


BROKEN_BODIES = {
    "not an object": [1, 2],
    "no status": {"result": []},
    "status not success": {"status": "ok", "result": []},
    "no result": {"status": "success"},
    "result not a list": {"status": "success", "result": {"id": 1}},
    "record not an object": envelope([1, 2]),
    "record without id": envelope([{"id": 1}, {"name": "no id"}]),
    "string id": envelope([{"id": "12"}]),
    "bool id": envelope([{"id": True}]),
}


@pytest.mark.parametrize("case", sorted(BROKEN_BODIES))
def test_a_broken_envelope_or_record_is_malformed(case: str) -> None:
    with stub_api(lambda p, q: (200, BROKEN_BODIES[case])) as url:
        client = stub(url)
        with pytest.raises(MalformedResponseError) as caught:
            next(client.pages("/listings"))
    err = caught.value
    assert (err.account_id, err.endpoint, err.retryable) == (1, "/listings", False)
    assert client.stats.requests == 1 + 3  # token, then the page with two retries


def test_a_fail_envelope_with_200_is_a_request_error() -> None:
    body = {"status": "fail", "result": "No reservation for guest Jane Doe"}
    failed = pytest.raises(RequestError, match=r"status 'fail' at /listings .*request id")
    with stub_api(lambda p, q: (200, body)) as url, failed as caught:
        stub(url).get("/listings")
    assert "Jane Doe" not in str(caught.value)  # the server's message may name a guest


def stub(url: str, secret: str | None = None) -> HostawayClient:
    cfg = fast_config(url, token_activation_delay_s=0, rate_limit_per_ip=1000)
    secret = secret or "stub-secret-value"
    return HostawayClient(1, secret, cfg, MemoryTokenStore(), MemoryRateLimitStore())


def test_echoed_secrets_and_tokens_are_scrubbed_from_errors() -> None:
    secret = "c0ffee0ddba11c0ffee0ddba11abcdef"
    echo = f"bad request for client_secret={secret} with Bearer {STUB_TOKEN} token={STUB_TOKEN}"
    with (
        stub_api(lambda p, q: (400, {"status": "fail", "message": echo})) as url,
        pytest.raises(RequestError) as caught,
    ):
        stub(url, secret).get("/listings")
    text = str(caught.value)
    assert "answered 400 at /listings" in text
    assert secret not in text and STUB_TOKEN not in text and STUB_TOKEN[:20] not in text


def test_no_log_line_or_error_shows_the_secret_or_token(
    sandbox: Any, make_client: MakeClient, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hostaway_pipeline.client")
    errors: list[HostawayError] = []
    bad = make_client(secret="0badc0de0badc0de0badc0de0badc0de")
    with pytest.raises(AuthError) as auth_failure:
        bad.get("/listings")
    errors.append(auth_failure.value)

    client = make_client()
    aid = client.account_id
    for kind in ("403", "truncated", "html500", "drop", "429"):
        sandbox.faults.queue(kind, 1, path_prefix="/listings")
    client.get("/listings")
    sandbox.faults.queue("5xx", 6, path_prefix="/listings")
    with pytest.raises(ServerError) as server_failure:
        client.get("/listings", {"limit": 1})
    errors.append(server_failure.value)

    stored = stores.tokens.load_token(api_host(sandbox.url), aid)
    assert stored is not None
    secrets = [sandbox.state.secret(aid), "0badc0de0badc0de0badc0de0badc0de", stored.token]
    lines = [r.getMessage() + repr(getattr(r, "hostaway", "")) for r in caplog.records]
    attempts = [line for line in lines if f"account_id={aid}" in line]
    assert len(attempts) == bad.stats.requests + client.stats.requests  # one line per attempt
    texts = lines + [str(e) + repr(e.__dict__) for e in errors] + [repr(client)]
    assert not [t for t in texts for s in secrets if s in t]


def test_errors_survive_pickling_with_their_context() -> None:
    err = ServerError("account 5: boom", account_id=5, endpoint="/listings", request_id="r1")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes, as multiprocessing does
    assert (type(back), str(back), back.account_id, back.endpoint, back.request_id) == (
        ServerError,
        "account 5: boom",
        5,
        "/listings",
        "r1",
    )
    assert back.retryable
