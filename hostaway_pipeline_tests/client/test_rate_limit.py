"""The shared limiter keeps several processes and threads inside the server's real limits."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.limiter import RateLimiter, account_bucket, ip_bucket
from hostaway_pipeline.client.memory import MemoryRateLimitStore
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.client import workers
from hostaway_pipeline_tests.client.conftest import MakeClient, Warehouse
from hostaway_pipeline_tests.support import processes
from hostaway_sandbox import SandboxServer, SeedSpec


def busiest_window(times: list[float], window_s: float) -> int:
    """The most requests that fall in any `window_s` interval."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_three_processes_share_the_ip_and_account_budgets_without_a_429(
    warehouse: Warehouse,
) -> None:
    """Accounts A, A and B from one host: 15 per IP and 8 per account in any 1 s window."""
    per_ip, per_account, calls = 15, 8, 10
    server = SandboxServer(
        seed=SeedSpec(accounts=2, listings=3, reservations=3, messages_per_conversation=1),
        rate_limit_per_ip=per_ip,
        rate_limit_per_account=per_account,
        window_s=1.0,
        token_activation_delay_s=0.05,
    )
    cfg = {
        "rate_limit_per_ip": per_ip,
        "rate_limit_per_account": per_account,
        "window_s": 1.0,
        "token_activation_delay_s": 0.1,
        "max_attempts": 1,  # a single 429 fails the worker
    }
    with server:
        a, b = server.state.account_ids()
        ctx = processes.context()
        barrier, results = ctx.Barrier(3), ctx.Queue()
        procs = [
            ctx.Process(
                target=workers.call_listings,
                args=(
                    server.url,
                    aid,
                    server.state.secret(aid),
                    warehouse.url,
                    warehouse.secret_key,
                    cfg,
                    calls,
                    barrier,
                    results,
                ),
            )
            for aid in (a, a, b)
        ]
        for p in procs:
            p.start()
        reports = [results.get(timeout=waits.PROCESS_S) for _ in procs]
        for p in procs:
            p.join(timeout=waits.PROCESS_S)
        log = server.stats.log

    assert [r["error"] for r in reports] == [None] * 3
    assert Counter(r.status for r in log) == {200: 3 * calls + 2}  # + one token per account
    assert busiest_window([r.ts for r in log], 1.0) <= per_ip
    api_a = [r.ts for r in log if r.account_id == a and r.path != "/v1/accessTokens"]
    assert busiest_window(api_a, 1.0) <= per_account
    # Not over-throttled: account A's 20 calls take about 19 intervals, not much more.
    interval_a = 1.1 / per_account
    assert max(api_a) - min(api_a) < (2 * calls - 1) * interval_a * 1.5


def test_a_thread_pool_on_one_client_stays_under_the_limit(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(max_attempts=1, max_concurrency=4)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.get("/listings", {"limit": 1}), range(24)))
    elapsed = time.monotonic() - started
    assert sandbox.stats.by_status() == {200: 25}
    assert client.stats.http_429 == 0 and client.stats.rate_limit_wait_s > 0
    assert elapsed >= 24 * client.config.ip_interval_s * 0.9


def fake_time() -> tuple[list[float], Callable[[float], None]]:
    clock = [100.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return clock, sleep


def test_requests_are_spaced_by_the_stricter_bucket() -> None:
    clock, sleep = fake_time()
    store = MemoryRateLimitStore(clock=lambda: clock[0])
    cfg = ClientConfig("https://api.hostaway.com/v1", 15, 20, 10.0, safety_margin=0.03)
    limiter = RateLimiter(store, cfg, 12345, sleep=sleep)
    sends = []
    for _ in range(4):
        limiter.acquire()
        sends.append(clock[0])
    assert sends == pytest.approx([100 + cfg.ip_interval_s * n for n in range(4)])
    assert cfg.ip_interval_s == pytest.approx(10 / 15 * 1.03)  # 3 % of 10 s: 0.3 s of slack
    short = ClientConfig("http://sandbox/v1", 15, 20, 1.0, safety_margin=0.03)
    assert short.ip_interval_s == pytest.approx(1.1 / 15)  # never less than 0.1 s of slack
    assert (ip_bucket(cfg.base_url), account_bucket(12345)) == (
        "ip:default:api.hostaway.com",
        "account:12345",
    )


def test_each_egress_has_its_own_ip_bucket_and_accounts_stay_shared() -> None:
    """Two egresses send side by side at the full per-IP rate each; one account on both egresses
    is still held to its own single per-account budget."""
    clock, sleep = fake_time()
    store = MemoryRateLimitStore(clock=lambda: clock[0])
    base = ClientConfig("https://api.hostaway.com/v1", 10, 100, 10.0, 0, min_slack_s=0)
    on_a, on_b = (
        ClientConfig(base.base_url, 10, 100, 10.0, 0, min_slack_s=0, egress_id=e)
        for e in ("egress-a", "egress-b")
    )
    assert ip_bucket(on_a.base_url, on_a.egress_id) == "ip:egress-a:api.hostaway.com"
    one, two = RateLimiter(store, on_a, 1, sleep=sleep), RateLimiter(store, on_b, 2, sleep=sleep)
    same_egress = RateLimiter(store, base, 3, sleep=sleep), RateLimiter(store, base, 4, sleep=sleep)
    # Different egresses: both send at once (no wait), twice the one-IP rate together.
    assert one.acquire() == 0.0 and two.acquire() == 0.0
    # The default egress: the second account waits for the first one's IP slot (1 s).
    assert same_egress[0].acquire() == 0.0
    assert same_egress[1].acquire() == pytest.approx(1.0)
    # One account on two egresses keeps one account budget (10 per 10 s here: 1 s apart).
    tight_a = ClientConfig(base.base_url, 100, 10, 10.0, 0, min_slack_s=0, egress_id="egress-a")
    tight_b = ClientConfig(base.base_url, 100, 10, 10.0, 0, min_slack_s=0, egress_id="egress-b")
    start = clock[0]
    RateLimiter(store, tight_a, 7, sleep=sleep).acquire()
    RateLimiter(store, tight_b, 7, sleep=sleep).acquire()
    assert clock[0] - start == pytest.approx(1.0)


def test_an_ip_wait_pushes_the_account_bucket_to_the_real_send_time() -> None:
    """Account 1 waits for the IP behind account 2; its next slot counts from the real send."""
    clock, sleep = fake_time()
    store = MemoryRateLimitStore(clock=lambda: clock[0])
    cfg = ClientConfig("https://api.hostaway.com/v1", 10, 5, 10.0, safety_margin=0, min_slack_s=0)
    one, two = (RateLimiter(store, cfg, aid, sleep=sleep) for aid in (1, 2))
    assert two.acquire() == 0.0  # IP slot at 100, next IP slot at 101
    assert one.acquire() == pytest.approx(1.0)  # account 1 free, IP busy until 101
    assert clock[0] == pytest.approx(101.0)
    # Account 1 sent at 101, so its next slot is 101 + 2 s, not 100 + 2 s.
    assert one.acquire() == pytest.approx(2.0)
    assert clock[0] == pytest.approx(103.0)
