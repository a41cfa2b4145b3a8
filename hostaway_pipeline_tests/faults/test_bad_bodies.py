"""Hostile response bodies, served over real HTTP: stored faithfully, or a typed error.

For every generated page (see `bodies.py`) a full sync of a fresh account either
- raises MalformedResponseError naming the account, the endpoint and the request id (a record
  that is not an object or has no 64-bit integer id), or
- stores each record (the last of duplicates) with its payload round-tripping (NUL, unpaired
  surrogates, NaN and Infinity, which PostgreSQL cannot hold, marked as `payloads` documents,
  restorable and counted), and each typed column either
  the value the oracle expects or NULL, every NULL of a non-empty value counted in untyped_fields.
No other exception may escape, and no warehouse error: bad input must never reach the database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.client.errors import MalformedResponseError, RequestError
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline.client.payloads import restore
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline_tests.client.stub_api import envelope, stub_api
from hostaway_pipeline_tests.conftest import reset_pg_schema
from hostaway_pipeline_tests.faults import bodies
from hostaway_pipeline_tests.faults.bodies import ANY, json_scalar

FAST = settings(
    max_examples=int(os.environ.get("HOSTAWAY_BODY_EXAMPLES") or 40),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@dataclass
class Harness:
    """A stub API serving whatever the example says, and the PostgreSQL warehouse."""

    url: str
    engine: sa.Engine
    bodies: dict[str, Any] = field(default_factory=dict)  # path -> envelope
    accounts: Iterator[int] = field(default_factory=lambda: itertools.count(900_000_001))
    examples: int = 0
    errors: int = 0

    def respond(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        body = self.bodies.get(path)
        return (200, body) if body is not None else (404, {"status": "fail", "message": "no"})

    def sync(
        self, spec: StreamSpec, pages: dict[str, list[Any]]
    ) -> tuple[int, SyncReport | Exception]:
        """Serve `pages` (path -> records) and fully sync `spec` for a new account."""
        self.bodies = {path: envelope(records, len(records)) for path, records in pages.items()}
        self.examples += 1
        account = next(self.accounts)
        config = ClientConfig(base_url=self.url, rate_limit_per_ip=10_000,
                              rate_limit_per_account=10_000, window_s=1.0, max_attempts=1,
                              malformed_retries=0, token_activation_delay_s=0)  # fmt: skip
        client = HostawayClient(
            account, "stub-secret", config, MemoryTokenStore(), MemoryRateLimitStore()
        )
        with client:
            try:
                return account, SyncEngine(client, self.engine, account).run(
                    spec, SyncMode.FULL, timedelta(0)
                )
            except MalformedResponseError as exc:
                self.errors += 1
                return account, exc


@pytest.fixture(scope="module")
def harness(pg_url: str) -> Iterator[Harness]:
    reset_pg_schema(pg_url)
    engine = db.create_engine(pg_url)
    db.upgrade(engine)
    box: dict[str, Harness] = {}
    with stub_api(lambda path, query: box["h"].respond(path, query)) as url:
        box["h"] = Harness(url, engine)
        yield box["h"]
    engine.dispose()


def rows(engine: sa.Engine, table_name: str, account_id: int) -> dict[int, Any]:
    table = schema.table(table_name)
    with engine.connect() as conn:
        return {
            r.id: r for r in conn.execute(sa.select(table).where(table.c.account_id == account_id))
        }


def check_error(exc: MalformedResponseError, account: int, endpoints: set[str]) -> None:
    assert exc.account_id == account and exc.endpoint in endpoints, (exc.endpoint, endpoints)
    assert exc.request_id and exc.request_id in str(exc)
    assert f"account {account}" in str(exc) and exc.endpoint in str(exc)


def check_stored(
    spec: StreamSpec, records: list[dict[str, Any]], stored: dict[int, Any],
    fixed: dict[str, object] | None = None,
) -> tuple[int, int]:  # fmt: skip
    """Every record (the last of duplicates) stored faithfully; (untyped cells, sanitized rows)."""
    last = {r["id"]: r for r in records}
    assert set(stored) == set(last)
    untyped = sanitized = 0
    for rid, record in last.items():
        row = stored[rid]
        expected_payload = bodies.sanitized(record)
        assert bodies.same_json(row.payload, expected_payload), (rid, record, row.payload)
        assert bodies.same_json(restore(row.payload), record), (rid, record, row.payload)
        sanitized += expected_payload != record
        for f in spec.fields:
            if fixed and f.column in fixed:
                assert getattr(row, f.column) == fixed[f.column]
                continue
            value = record.get(f.source)
            want, null_ok = bodies.expected_column(f, value)
            got = getattr(row, f.column)
            if got is None:
                assert want is None or null_ok, (f.source, value, want)
                untyped += value is not None and value != ""
            elif want is not ANY:
                assert got == want and type(got) is type(want), (f.source, value, got, want)
    return untyped, sanitized


def untyped_cells(spec: StreamSpec, records: list[dict[str, Any]]) -> int:
    """NULL typed cells from non-empty values over every record as served (duplicates too), as
    the client decodes them (NaN as a NumberLiteral, not a float)."""
    import json

    from hostaway_pipeline.client.payloads import loads
    from hostaway_pipeline.sync.convert import typed_row

    return sum(len(typed_row(loads(json.dumps(r)), spec.fields)[1]) for r in records)


def flat_example(harness: Harness, spec: StreamSpec, records: list[Any]) -> None:
    account, outcome = harness.sync(spec, {spec.path: records})
    stored = rows(harness.engine, spec.table, account)
    if not bodies.page_is_valid(records):
        assert isinstance(outcome, MalformedResponseError), outcome
        check_error(outcome, account, {spec.path})
        assert stored == {}
        return
    assert isinstance(outcome, SyncReport), outcome
    untyped, sanitized = check_stored(spec, records, stored)
    counts = outcome.table(spec.table)
    assert counts.untyped_fields == untyped_cells(spec, records) >= untyped
    assert counts.sanitized == sanitized
    assert counts.duplicates == len(records) - len({r["id"] for r in records})


def children_example(harness: Harness, parents: list[Any], children: dict[int, list[Any]]) -> None:
    spec, parent = streams.MESSAGES, streams.CONVERSATIONS
    pages: dict[str, list[Any]] = {parent.path: parents}
    for pid, records in children.items():
        pages[spec.path.format(parent_id=pid)] = records
    account, outcome = harness.sync(spec, pages)
    stored_parents = rows(harness.engine, parent.table, account)
    stored_children = rows(harness.engine, spec.table, account)
    if not bodies.page_is_valid(parents):
        assert isinstance(outcome, MalformedResponseError), outcome
        check_error(outcome, account, {parent.path})
        assert stored_parents == {} and stored_children == {}
        return
    order = list({p["id"]: p for p in parents})
    bad = [pid for pid in order if not bodies.page_is_valid(children[pid])]
    if bad:
        assert isinstance(outcome, MalformedResponseError), outcome
        check_error(outcome, account, {spec.path.format(parent_id=bad[0])})
        order = order[: order.index(bad[0])]  # the ones before it were committed, whole
    else:
        assert isinstance(outcome, SyncReport), outcome
    last_parents = {p["id"]: p for p in parents}
    check_stored(parent, [last_parents[pid] for pid in order], stored_parents)
    for pid in order:
        mine = {cid: r for cid, r in stored_children.items() if r.conversation_id == pid}
        check_stored(spec, children[pid], mine, fixed={"conversation_id": pid})


ids = st.integers(1, 2**40).map(lambda n: n * 1000)


@FAST
@given(data=st.data())
def test_hostile_listing_bodies(harness: Harness, data: st.DataObject) -> None:
    bodies.DATES.clear()
    flat_example(
        harness, streams.LISTINGS, data.draw(bodies.page(streams.LISTINGS, data.draw(ids)))
    )


@FAST
@given(data=st.data())
def test_hostile_reservation_bodies(harness: Harness, data: st.DataObject) -> None:
    bodies.DATES.clear()
    spec = streams.RESERVATIONS
    flat_example(harness, spec, data.draw(bodies.page(spec, data.draw(ids))))


@FAST
@given(data=st.data())
def test_hostile_conversation_and_message_bodies(harness: Harness, data: st.DataObject) -> None:
    bodies.DATES.clear()
    parents = data.draw(bodies.page(streams.CONVERSATIONS, data.draw(ids)))
    children: dict[int, list[Any]] = {}
    for p in parents:
        if isinstance(p, dict) and bodies.good_id(p.get("id")) and p["id"] not in children:
            children[p["id"]] = data.draw(bodies.page(streams.MESSAGES, data.draw(ids)))
    children_example(harness, parents, children)


def test_every_typed_column_can_hold_what_its_converter_returns() -> None:
    """The converters' ranges are the columns' ranges (an INT field must not feed a bigint)."""
    kinds = {sa.Integer: {"int"}, sa.BigInteger: {"bigint"}}
    for spec in (streams.LISTINGS, streams.RESERVATIONS, streams.CONVERSATIONS, streams.MESSAGES):
        table = schema.table(spec.table)
        for f in spec.fields:
            column_type = type(table.c[f.column].type)
            if column_type in kinds:
                assert f.kind.value in kinds[column_type], (spec.name, f.column, f.kind)


def soak_bodies(harness: Harness, deadline: float) -> dict[str, int]:
    """The property tests in batches of fresh random examples until `deadline` (for the soak)."""
    import time

    batch = settings(FAST, max_examples=50)
    tests: list[Callable[..., None]] = [
        test_hostile_listing_bodies.hypothesis.inner_test,  # type: ignore[attr-defined]
        test_hostile_reservation_bodies.hypothesis.inner_test,  # type: ignore[attr-defined]
        test_hostile_conversation_and_message_bodies.hypothesis.inner_test,  # type: ignore[attr-defined]
    ]
    while time.monotonic() < deadline:
        for inner in tests:
            batch(given(data=st.data())(inner))(harness=harness)
    return {"examples": harness.examples, "typed_errors": harness.errors}


@pytest.mark.soak
def test_soak_hostile_bodies(harness: Harness) -> None:
    from hostaway_pipeline_tests.faults.soak import record, soak_deadline

    record("hostile_bodies", soak_bodies(harness, soak_deadline(share=0.1)))


odd_counts = st.sampled_from([None, -1, 0, 3, 6, 7, 100, 2**70, "7", " 7 ", "x", True, 7.0, [7]])
broken_pages = st.sampled_from(
    [
        None,
        ["not", "an", "envelope"],
        {"status": "success", "result": None, "count": 7},
        {"status": "success", "result": {"id": 6}, "count": 7},
        {"status": "success", "result": "6,7", "count": 7},
        {"status": "success", "result": [None], "count": 7},
        {"status": "success", "count": 7},
        {"status": "fail", "result": "Internal error"},
        {"status": "fail", "message": None},
        {"status": "SUCCESS", "result": [], "count": 7},
        {"result": [], "count": 7},
    ]
)


@settings(FAST, max_examples=25)
@given(
    first_count=odd_counts,
    second=st.none() | broken_pages,
    extra=st.dictionaries(
        st.sampled_from(["page", "totalPages", "limit", "offset", "next"]), json_scalar, max_size=3
    ),
)
def test_hostile_envelopes_never_cost_a_live_row(
    harness: Harness, first_count: Any, second: Any, extra: dict[str, Any]
) -> None:
    """A full listing whose first page says a wrong `count` (or whose second page is broken) must
    end in a typed error or a complete listing: never in soft-deleting rows the API still has."""
    spec = streams.LISTINGS
    listings = [{"id": i, "name": f"Listing {i}"} for i in range(1, 8)]
    account = next(harness.accounts)
    calls = {"good": True}

    def page_of(offset: int) -> Any:
        records = listings[offset : offset + 5]
        if calls["good"]:
            return envelope(records, 7)
        if offset == 0:
            return {**extra, "status": "success", "result": records, "count": first_count}
        return envelope(records, 7) if second is None else second

    config = ClientConfig(base_url=harness.url, page_size=5, rate_limit_per_ip=10_000,
                          rate_limit_per_account=10_000, window_s=1.0, max_attempts=1,
                          malformed_retries=0, token_activation_delay_s=0)  # fmt: skip
    original = harness.respond
    harness.respond = lambda path, query: (200, page_of(int(query.get("offset", 0))))  # type: ignore[method-assign]
    try:
        for good in (True, False):
            calls["good"] = good
            client = HostawayClient(
                account, "stub", config, MemoryTokenStore(), MemoryRateLimitStore()
            )
            with client:
                try:
                    SyncEngine(client, harness.engine, account).run(
                        spec, SyncMode.FULL, timedelta(0)
                    )
                except (MalformedResponseError, RequestError) as exc:
                    assert not good
                    check_error_typed(exc, account)
    finally:
        harness.respond = original  # type: ignore[method-assign]
    stored = rows(harness.engine, spec.table, account)
    assert sorted(stored) == list(range(1, 8))
    assert all(r.deleted_at is None for r in stored.values()), "a live listing was soft-deleted"


def check_error_typed(exc: Exception, account: int) -> None:
    assert isinstance(exc, MalformedResponseError | RequestError)
    assert exc.account_id == account and exc.endpoint == "/listings" and exc.request_id
    assert f"account {account}" in str(exc)
