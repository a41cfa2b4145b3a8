"""Seeded data (determinism, scale), stats and the request log, hooks, admin API and CLI."""

from __future__ import annotations

import subprocess
import sys
import time

import requests

from hostaway_sandbox import SandboxServer, SeedSpec
from hostaway_sandbox.state import SandboxState

from .conftest import Api


def test_same_seed_same_data() -> None:
    spec = SeedSpec(accounts=2, listings=5, reservations=40, seed=7)
    a, b = SandboxState(spec), SandboxState(spec)
    for aid in a.account_ids():
        assert a.secret(aid) == b.secret(aid)
        assert a.listings(aid) == b.listings(aid)
        assert a.reservations(aid) == b.reservations(aid)
        assert a.conversations(aid) == b.conversations(aid)
        assert a.messages(aid) == b.messages(aid)
    other = SandboxState(SeedSpec(accounts=2, listings=5, reservations=40, seed=8))
    assert other.reservations(10001) != a.reservations(10001)


def test_seeded_data_is_realistic() -> None:
    st = SandboxState(SeedSpec(accounts=1, listings=20, reservations=400))
    rows = st.reservations(10001)
    statuses = {r["status"] for r in rows}
    assert {"new", "modified", "cancelled"} <= statuses
    assert all(r["cancellationDate"] for r in rows if r["status"] == "cancelled")
    assert len({r["channelName"] for r in rows}) >= 4
    assert all(r["updatedOn"] >= r["insertedOn"] and r["updatedOn"] < "2026-01-01" for r in rows)
    assert all(r["latestActivityOn"] >= r["updatedOn"] for r in rows)
    assert all("@" in r["guestEmail"] and r["phone"].startswith("+") for r in rows)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    msgs = st.messages(10001)
    assert any(m["attachments"] for m in msgs)
    assert {m["isIncoming"] for m in msgs} == {0, 1}
    assert len({m["id"] for m in msgs}) == len(msgs)


def test_100k_reservations_seed_quickly() -> None:
    started = time.perf_counter()
    server = SandboxServer(
        seed=SeedSpec(accounts=1, listings=100, reservations=100_000),
        rate_limit_per_ip=None,
        rate_limit_per_account=None,
        token_activation_delay_s=0.0,
    )
    built = time.perf_counter() - started
    with server:
        api = Api(server).login()
        t0 = time.perf_counter()
        first = api.ok("/reservations", limit=500)
        nxt = api.ok("/reservations", limit=500, afterId=first["result"][-1]["id"])
        paged = time.perf_counter() - t0
    print(f"\n100k reservations: seeded in {built:.2f}s, first two keyset pages {paged:.2f}s")
    assert first["count"] == 100_000 and nxt["offset"] == 500
    assert built < 60  # generous: the point is the printed time, not a tight bound


def test_stats_and_request_log(api: Api) -> None:
    server = api.server
    server.stats.reset()
    api.get("/listings", limit=3)
    api.get("/conversations")
    rec = server.stats.log[0]
    assert (rec.method, rec.path, rec.query, rec.status) == (
        "GET",
        "/v1/listings",
        {"limit": "3"},
        200,
    )
    assert rec.account_id == api.account_id and rec.request_id == "t-/listings"
    conv = server.state.conversations(api.account_id)[0]["id"]
    api.get(f"/conversations/{conv}/messages")
    assert server.stats.by_endpoint()[("GET", "/v1/conversations/{id}/messages")] == 1
    assert server.stats.by_account() == {api.account_id: 3}
    assert server.stats.count(path_prefix="/v1/conv") == 2
    assert server.stats.total == 3


def test_hook_sees_every_api_request(api: Api) -> None:
    seen: list[tuple[str, str, int | None]] = []
    api.server.hooks.before_response = lambda m, p, q, a: seen.append((m, p, a))
    api.get("/listings")
    api.issue()
    assert seen == [
        ("GET", "/v1/listings", api.account_id),
        ("POST", "/v1/accessTokens", api.account_id),
    ]


def test_admin_http_api(server: SandboxServer) -> None:
    base = server.base_url + "/_sandbox"
    accounts = requests.get(base + "/accounts", timeout=5).json()
    assert accounts == {str(a): server.state.secret(a) for a in server.state.account_ids()}
    aid = server.state.account_ids()[0]
    api = Api(server, aid).login()
    rid = api.ok("/reservations", limit=1)["result"][-1]["id"]
    resp = requests.post(
        base + "/mutate",
        json={"op": "cancel_reservation", "account_id": aid, "reservation_id": rid},
        timeout=5,
    )
    assert resp.json()["result"]["status"] == "cancelled"
    bad = requests.post(base + "/mutate", json={"op": "drop_tables", "account_id": aid}, timeout=5)
    assert bad.status_code == 400
    requests.post(base + "/faults", json={"storm_429": 1}, timeout=5)
    assert api.get("/listings").status_code == 429
    stats = requests.get(base + "/stats", timeout=5).json()
    assert stats["by_status"]["429"] == 1 and stats["token_requests"] == {str(aid): 1}
    requests.post(base + "/stats/reset", timeout=5)
    assert server.stats.total == 0
    new = requests.post(base + "/mutate", json={"op": "add_account"}, timeout=5).json()["result"]
    assert new in server.state.account_ids()
    limits = {"rate_limit_per_ip": 1, "window_s": 5, "retry_after": True}
    assert requests.post(base + "/limits", json=limits, timeout=5).json()["rate_limit_per_ip"] == 1
    resp = api.get("/listings")  # the requests above are still in the new 5 s window
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 5


def test_cli_runs_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hostaway_sandbox.cli", "--accounts", "1",
         "--reservations", "20", "--retry-after", "--latency-ms", "1-2"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        account_line = proc.stdout.readline().split()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert account_line[:2] == ["account", "10001"]
        health = requests.get(url[:-3] + "/_sandbox/health", timeout=5)
        assert health.json()["url"] == url
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
