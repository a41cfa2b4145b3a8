"""Dagster-layer fixtures: definitions wired to the sandbox and a real warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.settings import Settings
from hostaway_pipeline_tests.support.sandboxes import client_env, seeded_sandbox
from hostaway_pipeline_tests.support.wiring import Wired, wire
from hostaway_sandbox import SandboxServer, SeedSpec

CORE_ENTITIES = ("listings", "reservations", "conversations", "messages")
# The sandbox of tests marked `catalog`: the root fixture's accounts with fewer listings
# and reservations. Their children are one request each (calendar, fees, pricing, units and
# agreements per listing; finance fields and rental agreement per reservation; messages per
# conversation), so a full run of all 38 entities makes ~85 requests instead of ~155 at the
# sandbox's real limits: ~5 s less per run. The same 30 tables per account get rows as with the
# larger seed (the other 8 are global lists or empty), and an account has more listings than the
# 4 fetch threads (test_entity_availability.py). (The seed predates the unlimited sandbox, when a run
# paced itself at 15 requests per second; it stays, as the smaller run.)
CATALOG_SEED = SeedSpec(accounts=2, listings=6, reservations=12, messages_per_conversation=2)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The root sandbox (no rate limits unless marked `rate_limited`), seeded smaller for tests
    marked `catalog`."""
    catalog = request.node.get_closest_marker("catalog") is not None
    limited = request.node.get_closest_marker("rate_limited") is not None
    with seeded_sandbox(CATALOG_SEED if catalog else None, limited=limited) as server:
        yield server


@pytest.fixture
def settings(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
) -> Settings:  # fmt: skip
    """Settings for the sandbox and the PostgreSQL warehouse (also exported to the environment).

    Tests of orchestration (sensors, schedules, logs, queues) select the four core entities
    (HOSTAWAY_ENTITIES): syncing all 38 would cost each full run more and prove nothing more.
    Tests marked `catalog` sync every entity. The client's limits are the sandbox's (none unless
    the test is marked `rate_limited`: support/sandboxes.py).
    """
    if request.node.get_closest_marker("catalog") is None:
        monkeypatch.setenv("HOSTAWAY_ENTITIES", ",".join(CORE_ENTITIES))
    else:
        monkeypatch.delenv("HOSTAWAY_ENTITIES", raising=False)
    env = {
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
def wired(settings: Settings, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    w = wire(settings.database_url, secret_key, sandbox)
    yield w
    w.engine.dispose()


@pytest.fixture
def defs(settings: Settings) -> dg.Definitions:
    return build_definitions(settings)


@pytest.fixture
def accounts(instance: dg.DagsterInstance, wired: Wired) -> list[str]:
    """Every sandbox account registered, with its partition (as the account sensor leaves them)."""
    keys = [str(a.account_id) for a in wired.repo.list_accounts()]
    instance.add_dynamic_partitions(ACCOUNTS_NAME, keys)
    return keys
