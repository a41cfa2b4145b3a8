"""Test helpers: wire a real warehouse and a real client to the sandbox, and compare the two."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline_tests.support.sandboxes import client_limits
from hostaway_sandbox import SandboxServer

# What the engine and fault suites sync: the core entities (each a step of its own) and one entity
# per concept the catalog added (a stored parent with a date window and a composite key, changed
# parents only, a map, an offset-paged whole list). Every entity of the catalog is synced and
# compared with the sandbox in sync/test_catalog_entities.py; syncing all 38 in every round of
# every fault campaign would triple the suite's time for no new code path.
ENGINE_STREAMS = tuple(s for s in streams.STREAMS if s.area is None) + tuple(
    streams.by_name(n)
    for n in ("listing_calendar", "reservation_finance_fields", "payment_methods", "tasks")
)


@dataclass
class Wired:
    engine: sa.Engine
    box: SecretBox
    repo: AccountRepo

    def client(self, server: SandboxServer, account_id: int, **config: Any) -> HostawayClient:
        per_ip, per_account = client_limits(server)
        cfg = ClientConfig(
            base_url=server.url,
            rate_limit_per_ip=per_ip,
            rate_limit_per_account=per_account,
            window_s=server.limiter.window_s,
            token_activation_delay_s=0.05,
            backoff_base_s=0.05,
            backoff_cap_s=0.5,
            **config,
        )
        return HostawayClient(
            account_id,
            self.repo.client_secret(account_id),
            cfg,
            SqlTokenStore(self.engine, self.box),
            SqlRateLimitStore(self.engine),
        )


def wire(url: str, key: str, server: SandboxServer) -> Wired:
    """A migrated warehouse at `url` with every sandbox account registered.

    Migrated as the resources migrate it: once per process and warehouse (`upgrade_once`). The
    test databases are migrated before the test (conftest.py), and a test that changes the schema
    has it migrated again from scratch, which makes `upgrade_once` check again (databases.py)."""
    engine = db.create_engine(url)
    db.upgrade_once(engine)
    box = SecretBox(key)
    repo = AccountRepo(engine, box)
    for account_id in server.state.account_ids():
        repo.add(account_id, server.state.secret(account_id))
    return Wired(engine, box, repo)


def _norm(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True)


def warehouse_payloads(engine: sa.Engine, table_name: str, account_id: int) -> dict[int, str]:
    """Live rows' payloads by id, normalised for comparison."""
    table = schema.table(table_name)
    query = sa.select(table.c.id, table.c.payload).where(
        table.c.account_id == account_id, table.c.deleted_at.is_(None)
    )
    with engine.connect() as conn:
        return {row.id: _norm(row.payload) for row in conn.execute(query)}


def sandbox_payloads(server: SandboxServer, table_name: str, account_id: int) -> dict[int, str]:
    rows = getattr(server.state, table_name)(account_id)
    return {row["id"]: _norm(row) for row in rows}


def assert_mirrors(engine: sa.Engine, server: SandboxServer, account_id: int) -> None:
    """The warehouse's live rows equal the sandbox's data, record for record, payload for payload."""
    for name in ("listings", "reservations", "conversations", "messages"):
        ours = warehouse_payloads(engine, name, account_id)
        theirs = sandbox_payloads(server, name, account_id)
        missing, extra = theirs.keys() - ours.keys(), ours.keys() - theirs.keys()
        assert not missing and not extra, (
            f"{name}: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
        )
        differing = [i for i in theirs if theirs[i] != ours[i]]
        assert not differing, f"{name}: payloads differ for ids {differing[:5]}"


def dump_schema(url: str) -> dict[str, list[str]]:
    """Every row of every table of schema `hostaway`, in a stable order."""
    engine = sa.create_engine(url)
    dump: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names(schema="hostaway"):
            rows = conn.execute(sa.text(f'SELECT * FROM hostaway."{table}"')).all()
            dump[table] = sorted(repr(tuple(r)) for r in rows)
    engine.dispose()
    return dump
