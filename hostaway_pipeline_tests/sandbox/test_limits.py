"""Rate limits: sliding windows per IP and per account, 429 fail envelope, Retry-After."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hostaway_sandbox import SandboxServer

from .conftest import Api, ManualClock, wait_on

Make = Callable[..., SandboxServer]


@pytest.fixture
def make_server(make_server: Make) -> Make:
    """Servers on a manual clock: a window of 1 s holds however slowly the requests go."""

    def make(**kwargs: object) -> SandboxServer:
        return make_server(clock=ManualClock(), **kwargs)

    return make


def statuses(api: Api, n: int, path: str = "/listings") -> list[int]:
    return [api.get(path).status_code for _ in range(n)]


def test_per_ip_limit_429_then_recovers(make_server: Make) -> None:
    server = make_server(rate_limit_per_ip=5, window_s=1.0)
    api = Api(server).login()  # the token request counts toward the IP window
    got = statuses(api, 6)
    assert got == [200, 200, 200, 200, 429, 429]
    resp = api.get("/listings")
    assert resp.json() == {"status": "fail", "message": resp.json()["message"]}
    assert "Retry-After" not in resp.headers and "X-RateLimit-Retry-After" not in resp.headers
    wait_on(server, 1.05)
    assert statuses(api, 5) == [200] * 5  # rejected requests did not use up the window
    assert server.stats.by_status()[429] == 3


def test_retry_after_headers_when_enabled(make_server: Make) -> None:
    server = make_server(rate_limit_per_ip=5, window_s=1.0, retry_after=True)
    api = Api(server).login()
    statuses(api, 4)
    resp = api.get("/reservations")
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == resp.headers["X-RateLimit-Retry-After"] == "1"
    wait_on(server, float(resp.headers["Retry-After"]) + 0.02)
    assert api.get("/reservations").status_code == 200


def test_per_account_limit_is_separate_per_account(make_server: Make) -> None:
    server = make_server(rate_limit_per_account=3, window_s=1.0)
    first, second = server.state.account_ids()
    a, b = Api(server, first).login(), Api(server, second).login()
    assert statuses(a, 4) == [200, 200, 200, 429]
    assert statuses(b, 3) == [200, 200, 200]
    assert server.stats.count(status=429, account_id=first) == 1


def test_ip_budget_is_shared_by_accounts(make_server: Make) -> None:
    server = make_server(rate_limit_per_ip=6, rate_limit_per_account=20, window_s=1.0)
    first, second = server.state.account_ids()
    a, b = Api(server, first).login(), Api(server, second).login()
    assert statuses(a, 2) + statuses(b, 3) == [200, 200, 200, 200, 429]


def test_limits_are_mutable_at_runtime(make_server: Make) -> None:
    server = make_server(rate_limit_per_ip=2, window_s=1.0)
    api = Api(server).login()
    assert statuses(api, 2) == [200, 429]
    server.limiter.per_ip = None
    assert statuses(api, 3) == [200] * 3
