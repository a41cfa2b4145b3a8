"""Token endpoint: bare response, activation delay, revocation, bad credentials, rotation."""

from __future__ import annotations

import pytest
import requests

from hostaway_sandbox import SandboxServer

from .conftest import Api, ManualClock


def test_token_is_a_bare_object(server: SandboxServer) -> None:
    resp = Api(server).issue()
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"token_type", "expires_in", "access_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 63072000
    assert body["access_token"].count(".") == 2  # JWT-like
    assert server.stats.token_requests(server.state.account_ids()[0]) == 1


def test_token_becomes_valid_after_activation_delay(make_server: object) -> None:
    clock = ManualClock()
    server = make_server(token_activation_delay_s=0.3, clock=clock)  # type: ignore[operator]
    api = Api(server)
    api.token = api.issue().json()["access_token"]
    clock.advance(0.29)
    early = api.get("/listings")
    assert early.status_code == 403 and early.json()["status"] == "fail"
    clock.advance(0.02)
    assert api.get("/listings").status_code == 200


def test_bad_credentials_get_403_fail(server: SandboxServer) -> None:
    api = Api(server)
    resp = api.issue(secret="wrong")
    assert resp.status_code == 403
    assert resp.json()["status"] == "fail" and resp.json()["message"]
    api.account_id = 999
    assert api.issue(secret="x").status_code == 403
    bad_grant = requests.post(
        server.url + "/accessTokens",
        data={"grant_type": "password", "client_id": server.state.account_ids()[0]},
        timeout=5,
    )
    assert bad_grant.status_code == 403


def test_missing_or_unknown_token_is_403(api: Api) -> None:
    assert requests.get(api.server.url + "/listings", timeout=5).status_code == 403
    api.token = "not-a-token"
    assert api.get("/reservations").status_code == 403


def test_revoke_by_http_and_by_state(api: Api) -> None:
    assert api.get("/listings").status_code == 200
    resp = api.http.delete(api.server.url + "/accessTokens", params={"token": api.token})
    assert resp.json() == {"status": "success", "result": []}
    assert api.get("/listings").status_code == 403
    api.login()
    assert api.server.state.revoke_tokens(api.account_id) == 1
    assert api.get("/listings").status_code == 403


def test_rotate_secret_keeps_existing_tokens(api: Api) -> None:
    old = api.server.state.secret(api.account_id)
    new = api.server.state.rotate_secret(api.account_id)
    assert new != old
    assert api.issue(secret=old).status_code == 403
    assert api.issue(secret=new).status_code == 200
    assert api.get("/listings").status_code == 200  # issued before rotation, still valid


def test_token_identifies_the_account(server: SandboxServer) -> None:
    first, second = server.state.account_ids()
    a, b = Api(server, first).login(), Api(server, second).login()
    ids_a = {r["id"] for r in a.ok("/listings", limit=100)["result"]}
    ids_b = {r["id"] for r in b.ok("/listings", limit=100)["result"]}
    assert ids_a == {r["id"] for r in server.state.listings(first)}
    assert not ids_a & ids_b
    conv = server.state.conversations(second)[0]["id"]
    resp = a.get(f"/conversations/{conv}/messages")
    assert resp.status_code == 404 and resp.json()["status"] == "fail"


@pytest.mark.rate_limited
def test_shared_fixture_has_real_limits(sandbox: SandboxServer) -> None:
    api = Api(sandbox).login()
    got = [api.get("/listings").status_code for _ in range(16)]
    assert got.count(200) == 14 and got[-1] == 429  # 15 per IP per window, token included
