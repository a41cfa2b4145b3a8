"""Fault-injection fixtures: a `--soak` switch, seeded randomness, sandboxes and wired warehouses.

The fast versions of every fault test run in the normal suite; tests marked `soak` repeat the same
scenarios for minutes and only run with `pytest --soak` (see docs/RELIABILITY.md).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hostaway_pipeline.client.auth import clear_memory_cache
from hostaway_pipeline.settings import Settings
from hostaway_pipeline_tests.faults.support import Wired, wire
from hostaway_pipeline_tests.support.sandboxes import client_env
from hostaway_pipeline_tests.support.wiring import ENGINE_STREAMS
from hostaway_sandbox import SandboxServer, SeedSpec


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the long fault soak (tests marked `soak`); HOSTAWAY_SOAK_MINUTES sets its length",
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` selects: `./dev quick` leaves out `faults`
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip_soaks = not config.getoption("--soak")
    skip = pytest.mark.skip(reason="the long soak runs only with --soak")
    for item in items:
        if here not in item.path.parents:
            continue
        item.add_marker(pytest.mark.faults)
        if skip_soaks and "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _cold_token_cache() -> Iterator[None]:
    """No token cached in this process between tests (sandboxes reuse account ids and ports)."""
    clear_memory_cache()
    yield
    clear_memory_cache()


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A seeded RNG; the seed is printed on failure (set HOSTAWAY_FAULT_SEED to replay one)."""
    seed = int(os.environ.get("HOSTAWAY_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    request.node.user_properties.append(("fault_seed", seed))
    print(f"fault seed: {seed} (replay with HOSTAWAY_FAULT_SEED={seed})")
    return random.Random(seed)


MakeSandbox = Callable[..., SandboxServer]


@pytest.fixture
def make_sandbox() -> Iterator[MakeSandbox]:
    """Start sandboxes enforcing limits on a 1 s window: make_sandbox(accounts=2, ...).

    The limits default to 60 requests per second per IP and per account, so
    that fault tests are quick; the concurrency test passes Hostaway's real 15 and 20.
    """
    started: list[SandboxServer] = []

    def make(
        accounts: int = 1,
        listings: int = 7,
        reservations: int = 30,
        messages_per_conversation: int = 3,
        seed: int = 42,
        **server: Any,
    ) -> SandboxServer:
        settings: dict[str, Any] = {
            "rate_limit_per_ip": 60,
            "rate_limit_per_account": 60,
            "window_s": 1.0,
            "token_activation_delay_s": 0.05,
            **server,
        }
        spec = SeedSpec(
            accounts=accounts,
            listings=listings,
            reservations=reservations,
            messages_per_conversation=messages_per_conversation,
            seed=seed,
        )
        sandbox = SandboxServer(seed=spec, **settings).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> SandboxServer:
    """One account with a few pages of everything at page size 5."""
    return make_sandbox()


@pytest.fixture
def settings(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:  # fmt: skip
    """Settings for the sandbox and the PostgreSQL warehouse (also exported to the environment)."""
    env = {
        # What the fault suites sync (support/wiring.py, ENGINE_STREAMS): the core entities and one
        # entity per concept the catalog added; the same code path stores, logs and reports them
        # all, and syncing all 38 (120 reservations' children in the hostile sweep) cost ~1 min
        # per test.
        "HOSTAWAY_ENTITIES": ",".join(s.name for s in ENGINE_STREAMS),
        "HOSTAWAY_API_URL": sandbox.url,
        "HOSTAWAY_DATABASE_URL": fresh_pg_url,
        "HOSTAWAY_SECRET_KEY": secret_key,
        **client_env(sandbox),
        "HOSTAWAY_HOME": str(tmp_path / "home"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return replace(Settings.from_env(), home=tmp_path / "home")


@pytest.fixture
def wired(fresh_pg_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    """The PostgreSQL warehouse (empty schema) with the sandbox's accounts registered."""
    w = wire(fresh_pg_url, secret_key, sandbox)
    yield w
    w.engine.dispose()
