"""Each fault kind is observable over HTTP; admin calls and (by default) tokens are exempt."""

from __future__ import annotations

import time

import pytest
import requests

from hostaway_sandbox import SandboxServer

from .conftest import Api


def test_5xx_kinds(api: Api) -> None:
    faults = api.server.faults
    faults.queue("5xx", 6)
    got = [api.get("/listings") for _ in range(6)]
    assert {r.status_code for r in got} <= {502, 503}
    faults.queue("502")
    resp = api.get("/listings")
    assert resp.status_code == 502 and resp.headers["Content-Type"].startswith("text/html")
    faults.queue("503")
    resp = api.get("/listings")
    assert resp.status_code == 503 and resp.json()["status"] == "fail"
    assert api.get("/listings").status_code == 200


def test_error_rate_and_admin_exemption(api: Api) -> None:
    api.server.faults.error_rate_5xx = 1.0
    assert api.get("/reservations").status_code in (502, 503)
    assert requests.get(api.server.base_url + "/_sandbox/accounts", timeout=5).status_code == 200
    api.server.faults.error_rate_5xx = 0.0
    assert api.get("/reservations").status_code == 200


def test_storm_429(api: Api) -> None:
    api.server.faults.storm_429(3)
    got = [api.get("/conversations") for _ in range(4)]
    assert [r.status_code for r in got] == [429, 429, 429, 200]
    assert got[0].json()["status"] == "fail" and "message" in got[0].json()
    assert api.server.stats.count(status=429) == 3


def test_truncated_json(api: Api) -> None:
    api.server.faults.queue("truncated")
    resp = api.get("/reservations")
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()
    assert api.server.stats.log[-1].fault == "truncated"


@pytest.mark.parametrize(("kind", "status"), [("html200", 200), ("html500", 500)])
def test_html_error_pages(api: Api, kind: str, status: int) -> None:
    api.server.faults.queue(kind)
    resp = api.get("/listings")
    assert resp.status_code == status
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.text.startswith("<!DOCTYPE html>")


def test_dropped_connection(api: Api) -> None:
    api.server.faults.queue("drop")
    with pytest.raises(requests.ConnectionError):
        api.get("/listings")
    assert api.get("/listings").status_code == 200
    assert api.server.stats.by_status()[0] == 1


def test_timeout(api: Api) -> None:
    api.server.faults.timeout_s = 0.5
    api.server.faults.queue("timeout")
    with pytest.raises(requests.ReadTimeout):
        api.http.get(
            api.server.url + "/listings",
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=0.2,
        )
    assert api.get("/listings").status_code == 200


def test_latency_with_jitter(api: Api) -> None:
    api.server.faults.latency_ms = (80, 120)
    started = time.monotonic()
    api.get("/listings")
    assert time.monotonic() - started >= 0.08


def test_path_prefix_and_token_endpoint_exemption(api: Api) -> None:
    faults = api.server.faults
    faults.queue("503", 1, path_prefix="/reservations")
    assert api.get("/listings").status_code == 200
    assert api.get("/reservations").status_code == 503
    faults.storm_429(1)
    assert api.issue().status_code == 200  # unprefixed faults skip the token endpoint
    assert api.get("/listings").status_code == 429
    faults.queue("503", 1, path_prefix="/v1/accessTokens")
    assert api.issue().status_code == 503
    faults.include_token_endpoint = True
    faults.queue("401")
    assert api.issue().status_code == 401
    assert faults.pending() == 0


def test_403_fault_does_not_revoke(api: Api) -> None:
    api.server.faults.queue("403")
    assert api.get("/listings").status_code == 403
    assert api.get("/listings").status_code == 200


def test_unknown_fault_kind_rejected(server: SandboxServer) -> None:
    with pytest.raises(ValueError):
        server.faults.queue("meteor")


def test_forbid_refuses_one_accounts_endpoint_with_any_valid_token_until_allowed(
    api: Api, server: SandboxServer
) -> None:
    other = Api(server, server.state.account_ids()[1]).login()
    admin = requests.post(
        server.base_url + "/_sandbox/faults",
        json={"forbid": [{"account_id": api.account_id, "path_prefix": "/tasks", "status": 403}]},
        timeout=10,
    )
    assert admin.json()["forbidden"] == {str(api.account_id): {"/tasks": 403}}
    assert api.get("/tasks").status_code == 403
    assert api.login().get("/tasks").status_code == 403  # a fresh token changes nothing
    assert api.get("/listings").status_code == 200  # the same token works elsewhere
    assert other.get("/tasks").status_code == 200  # other accounts are not affected
    server.faults.forbid(api.account_id, "/expenses", status=404)
    assert api.get("/expenses").status_code == 404
    server.faults.allow(api.account_id, "/tasks")
    assert api.get("/tasks").status_code == 200
    assert api.get("/expenses").status_code == 404
    server.faults.allow(api.account_id)
    assert api.get("/expenses").status_code == 200
    with pytest.raises(ValueError):
        server.faults.forbid(api.account_id, "/tasks", status=500)
