"""Fixtures for sandbox tests: servers over real HTTP and a tiny authenticated `requests` helper."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from hostaway_sandbox import SandboxServer, SeedSpec


class ManualClock:
    """A monotonic clock that moves only when told: rate windows and token activation in tests
    then depend on what the test does, not on how fast a loaded machine runs it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_on(server: SandboxServer, seconds: float) -> None:
    """Let `seconds` pass for `server`: on its manual clock if it has one, else for real."""
    if isinstance(server.clock, ManualClock):
        server.clock.advance(seconds)
    else:
        time.sleep(seconds)


class Api:
    """Minimal HTTP helper bound to one account of a sandbox (the tests' stand-in client)."""

    def __init__(self, server: SandboxServer, account_id: int | None = None) -> None:
        self.server = server
        self.account_id = account_id or server.state.account_ids()[0]
        self.http = requests.Session()
        self.token = ""

    def issue(self, secret: str | None = None) -> requests.Response:
        """POST /v1/accessTokens (form-encoded)."""
        return self.http.post(
            self.server.url + "/accessTokens",
            data={
                "grant_type": "client_credentials",
                "client_id": str(self.account_id),
                "client_secret": secret or self.server.state.secret(self.account_id),
                "scope": "general",
            },
            timeout=10,
        )

    def login(self) -> Api:
        """Get a token and wait for it to become active."""
        resp = self.issue()
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]
        wait_on(self.server, self.server.state.tokens.activation_delay_s + 0.01)
        return self

    def get(self, path: str, **params: Any) -> requests.Response:
        """GET an API path with the bearer token."""
        return self.http.get(
            self.server.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}", "X-Request-ID": f"t-{path}"},
            timeout=10,
        )

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        """GET and assert a success envelope."""
        resp = self.get(path, **params)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        assert body["status"] == "success"
        return body


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """Factory for started servers (stopped at teardown); unlimited rates unless given."""
    servers: list[SandboxServer] = []

    def make(**kwargs: Any) -> SandboxServer:
        kwargs.setdefault("seed", SeedSpec(accounts=2, listings=12, reservations=60))
        kwargs.setdefault("rate_limit_per_ip", None)
        kwargs.setdefault("rate_limit_per_account", None)
        kwargs.setdefault("token_activation_delay_s", 0.02)
        server = SandboxServer(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., SandboxServer]) -> SandboxServer:
    """A small unlimited sandbox."""
    return make_server()


@pytest.fixture
def api(server: SandboxServer) -> Api:
    """A logged-in helper for the first account of `server`."""
    return Api(server).login()
