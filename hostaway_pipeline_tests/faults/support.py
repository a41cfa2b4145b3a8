"""Shared machinery of the fault tests: wiring, syncing and the invariants.

Random changes to the sandbox are in `mutations`. The invariants are what "the warehouse is right after anything goes wrong" means, checked record by
record against the sandbox after every injected failure:
- no row the API still serves is soft-deleted, and no (account, id) is stored twice;
- a flat stream's watermark is never ahead of its data: every record whose cursor is older than the
  watermark (less one second, Hostaway's timestamp granularity) is stored exactly as served;
- a conversation the next incremental run would skip holds exactly the API's messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.sync.convert import cursor_value
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode, recent_parents_since
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline.warehouse.state import load_state
from hostaway_pipeline_tests.support.sandboxes import client_limits
from hostaway_pipeline_tests.support.wiring import ENGINE_STREAMS
from hostaway_sandbox import SandboxServer

TABLES = ("listings", "reservations", "conversations", "messages")
GRANULARITY = timedelta(seconds=1)  # Hostaway datetimes have whole seconds
PAGE_SIZE = 5  # small pages: many page transactions, many places for a fault to land


def rounds_until(rounds: int, enough: Callable[[], bool], max_rounds: int) -> Iterator[int]:
    """Round numbers of a random campaign: `rounds`, then more (up to `max_rounds`) until
    `enough()`. Whether a random fault lands depends on the machine's speed, so what a test needs
    exercised is waited for, not hoped for."""
    done = 0
    while done < rounds or (not enough() and done < max_rounds):
        done += 1
        yield done


def client_config(server: SandboxServer, **overrides: Any) -> ClientConfig:
    """The sandbox's limits (none where it has none) and a quick retry policy (tests must not sleep for long)."""
    per_ip, per_account = client_limits(server)
    settings: dict[str, Any] = {
        "base_url": server.url,
        "rate_limit_per_ip": per_ip,
        "rate_limit_per_account": per_account,
        "window_s": server.limiter.window_s,
        "token_activation_delay_s": 0.05,
        "backoff_base_s": 0.02,
        "backoff_cap_s": 0.2,
        "read_timeout_s": 5.0,
        "page_size": PAGE_SIZE,
        **overrides,
    }
    return ClientConfig(**settings)


@dataclass
class Wired:
    """A migrated warehouse with the sandbox's accounts registered, and what a subprocess needs."""

    url: str
    key: str
    engine: sa.Engine
    box: SecretBox
    repo: AccountRepo

    def client(self, server: SandboxServer, account_id: int, **config: Any) -> HostawayClient:
        return HostawayClient(
            account_id,
            self.repo.client_secret(account_id),
            client_config(server, **config),
            SqlTokenStore(self.engine, self.box),
            SqlRateLimitStore(self.engine),
        )


def wire(url: str, key: str, server: SandboxServer, **engine_kwargs: Any) -> Wired:
    engine = db.create_engine(url, **engine_kwargs)
    db.upgrade(engine)
    box = SecretBox(key)
    repo = AccountRepo(engine, box)
    for account_id in server.state.account_ids():
        repo.add(account_id, server.state.secret(account_id))
    return Wired(url, key, engine, box, repo)


def sync_all(
    w: Wired,
    server: SandboxServer,
    account_id: int,
    mode: SyncMode,
    lookback: timedelta = timedelta(0),
    **config: Any,
) -> dict[str, SyncReport]:
    """Every stream of an account, in the order of the Dagster job."""
    with w.client(server, account_id, **config) as client:
        sync = SyncEngine(client, w.engine, account_id)
        return {spec.name: sync.run(spec, mode, lookback) for spec in ENGINE_STREAMS}


# -- comparisons ------------------------------------------------------------------------------


def _norm(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True)


def stored(engine: sa.Engine, table_name: str, account_id: int) -> dict[int, tuple[str, bool]]:
    """{id: (normalised payload, soft-deleted)} of every stored row of the account."""
    table = schema.table(table_name)
    query = sa.select(table.c.id, table.c.payload, table.c.deleted_at).where(
        table.c.account_id == account_id
    )
    with engine.connect() as conn:
        return {r.id: (_norm(r.payload), r.deleted_at is not None) for r in conn.execute(query)}


def served(server: SandboxServer, table_name: str, account_id: int) -> dict[int, dict[str, Any]]:
    """The sandbox's current records of a table, by id."""
    return {r["id"]: r for r in getattr(server.state, table_name)(account_id)}


def mirror_problems(
    engine: sa.Engine, server: SandboxServer, account_id: int, ignore: Iterable[int] = ()
) -> list[str]:
    """Differences between live warehouse rows and the sandbox (ids in `ignore` may linger)."""
    problems = []
    skip = set(ignore)
    for name in TABLES:
        ours = {i: p for i, (p, deleted) in stored(engine, name, account_id).items() if not deleted}
        theirs = {i: _norm(r) for i, r in served(server, name, account_id).items()}
        missing = sorted(theirs.keys() - ours.keys())
        extra = sorted(ours.keys() - theirs.keys() - skip)
        differ = sorted(i for i in theirs.keys() & ours.keys() if theirs[i] != ours[i])
        for what, ids in (("missing", missing), ("extra", extra), ("differing", differ)):
            if ids:
                problems.append(f"{name}: {len(ids)} {what}, e.g. {ids[:5]}")
    return problems


def assert_converged(
    engine: sa.Engine, server: SandboxServer, account_id: int, ignore: Iterable[int] = ()
) -> None:
    problems = mirror_problems(engine, server, account_id, ignore)
    assert not problems, "; ".join(problems)


def invariant_problems(
    engine: sa.Engine,
    server: SandboxServer,
    account_id: int,
    lookback: timedelta,
    strict: bool = True,
) -> list[str]:
    """Violations of the module's invariants; [] when the warehouse is safe to sync onwards.

    `strict`: every record older than the watermark less a second must be stored. Without it,
    only those older than the day of (watermark - lookback), the window the next incremental run
    asks for: while rows are deleted during paging an offset listing can skip a row, and the
    engine relies on the lookback (at least the time between runs) to fetch it next time.
    """
    problems: list[str] = []
    rows = {name: stored(engine, name, account_id) for name in TABLES}
    live = {name: served(server, name, account_id) for name in TABLES}
    for name in TABLES:
        wrongly_deleted = sorted(i for i, (_, d) in rows[name].items() if d and i in live[name])
        if wrongly_deleted:
            problems.append(f"{name}: live rows soft-deleted: {wrongly_deleted[:5]}")
    with engine.connect() as conn:
        duplicates = {
            name: conn.scalar(
                sa.select(
                    sa.func.count() - sa.func.count(sa.distinct(schema.table(name).c.id))
                ).where(schema.table(name).c.account_id == account_id)
            )
            for name in TABLES
        }
        states = {spec.name: load_state(conn, account_id, spec.name) for spec in ENGINE_STREAMS}
    problems += [f"{name}: {n} duplicate ids" for name, n in duplicates.items() if n]
    for spec in (streams.LISTINGS, streams.RESERVATIONS):
        mark = states[spec.name].watermark
        if mark is None:
            continue
        assert spec.cursor_field is not None
        floor = mark - GRANULARITY
        if not strict:
            floor = datetime.combine((mark - lookback).date(), time.min, tzinfo=UTC)
        behind = [
            rid
            for rid, record in live[spec.table].items()
            if (c := cursor_value(record, spec.cursor_field)) is not None
            and c < floor
            and rows[spec.table].get(rid) != (_norm(record), False)
        ]
        if behind:
            problems.append(
                f"{spec.name}: watermark {mark} ahead of data: {len(behind)} older records not "
                f"stored as served, e.g. {sorted(behind)[:5]}"
            )
    problems += _children_problems(rows, live, states["messages"].last_started_at, lookback)
    return problems


def _children_problems(
    rows: dict[str, dict[int, tuple[str, bool]]],
    live: dict[str, dict[int, dict[str, Any]]],
    last_started: datetime | None,
    lookback: timedelta,
) -> list[str]:
    """Conversations the next incremental run would skip must hold exactly the API's messages."""
    since = recent_parents_since(last_started, lookback)
    if since is None:
        return []  # no completed run yet: the next one refetches every conversation
    by_conversation: dict[int, set[tuple[int, str]]] = {}
    for mid, (payload, deleted) in rows["messages"].items():
        if not deleted:
            cid = json.loads(payload)["conversationId"]
            by_conversation.setdefault(cid, set()).add((mid, payload))
    expected: dict[int, set[tuple[int, str]]] = {}
    for mid, message in live["messages"].items():
        expected.setdefault(message["conversationId"], set()).add((mid, _norm(message)))
    fields = streams.MESSAGES.parent_change_fields
    wrong = []
    for cid, conversation in live["conversations"].items():
        row = rows["conversations"].get(cid)
        if row is None or row[1]:
            continue  # not stored: the next run fetches it
        kept = json.loads(row[0])
        moved = any(kept.get(f) != conversation.get(f) for f in fields)
        marks = [cursor_value(conversation, f) for f in fields]
        recent = any(m is not None and m >= since for m in marks)
        if not moved and not recent and by_conversation.get(cid, set()) != expected.get(cid, set()):
            wrong.append(cid)
    if wrong:
        return [f"messages: conversations the next run would skip lack messages: {wrong[:5]}"]
    return []


def assert_invariants(
    engine: sa.Engine,
    server: SandboxServer,
    account_id: int,
    lookback: timedelta,
    strict: bool = True,
) -> None:
    problems = invariant_problems(engine, server, account_id, lookback, strict)
    assert not problems, "; ".join(problems)


def state_rows(engine: sa.Engine, account_id: int) -> dict[str, Any]:
    """The account's sync_state rows, for before/after comparisons."""
    with engine.connect() as conn:
        return {spec.name: load_state(conn, account_id, spec.name) for spec in ENGINE_STREAMS}


def half_written_problems(
    engine: sa.Engine, server: SandboxServer, account_id: int, page_size: int = PAGE_SIZE
) -> list[str]:
    """For full runs into an empty warehouse over unchanging data: only whole pages are stored.

    Listings (by id) and reservations (updatedOn DESC, id DESC) must be a prefix of the API's
    order of a whole number of pages, and every stored conversation must come with all its
    messages (they are committed together), and no message without its conversation.
    """
    from hostaway_sandbox.clock import sort_int

    problems = []
    orders = {
        "listings": [
            r["id"] for r in sorted(server.state.listings(account_id), key=lambda r: r["id"])
        ],
        "reservations": [
            r["id"]
            for r in sorted(
                server.state.reservations(account_id),
                key=lambda r: (-sort_int(r.get("updatedOn")), -r["id"]),
            )
        ],
    }
    for name, order in orders.items():
        have = set(stored(engine, name, account_id))
        n = len(have)
        if have != set(order[:n]) or (n % page_size and n != len(order)):
            problems.append(f"{name}: {n} rows stored, not a whole number of pages of the listing")
    messages = stored(engine, "messages", account_id)
    conversations = stored(engine, "conversations", account_id)
    expected: dict[int, set[int]] = {}
    for message in server.state.messages(account_id):
        expected.setdefault(message["conversationId"], set()).add(message["id"])
    have_by_conv: dict[int, set[int]] = {}
    for mid, (payload, _) in messages.items():
        have_by_conv.setdefault(json.loads(payload)["conversationId"], set()).add(mid)
    for cid in conversations:
        if have_by_conv.get(cid, set()) != expected.get(cid, set()):
            problems.append(f"conversation {cid} stored without all of its messages")
    orphans = set(have_by_conv) - set(conversations)
    if orphans:
        problems.append(f"messages stored without their conversation: {sorted(orphans)[:5]}")
    return problems


def forget_account_data(engine: sa.Engine, account_id: int) -> None:
    """Delete the account's mirrored rows and sync state (its registration and token stay)."""
    with engine.begin() as conn:
        for name in (*TABLES, "sync_state"):
            table = schema.table(name)
            conn.execute(sa.delete(table).where(table.c.account_id == account_id))
