"""The full sync's per-entity rule for children of unchanged parents, against the sandbox over HTTP
and the real warehouses: children cheap to re-read whole (fees of a few listings) are re-read by
every full sync, so a deletion under an unchanged parent is seen the next night; expensive ones
keep the rolling slice; a reconcile re-reads every child."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog
from hostaway_pipeline.accounts.budget import format_rules, full_rule
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.verifications import coverage
from hostaway_pipeline_tests.helpers import Wired, wire
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(minutes=5)
FEES = catalog.by_name("listing_fee_settings")
FINANCE = catalog.by_name("reservation_finance_fields")


@pytest.fixture
def wired(any_db_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    w = wire(any_db_url, secret_key, sandbox)
    yield w
    w.engine.dispose()


def _live_fees(w: Wired, account: int) -> set[object]:
    t = schema.table(FEES.table)
    with w.engine.connect() as conn:
        return set(
            conn.scalars(
                sa.select(t.c.id).where(t.c.account_id == account, t.c.deleted_at.is_(None))
            )
        )


def _a_fee_of_the_last_listing(sandbox: SandboxServer, account: int) -> tuple[int, int]:
    """(listing id, fee id) under the highest listing id: the slice's last pick (it re-verifies
    the lowest ids first when every verification is equally old)."""
    for listing in reversed(sandbox.state.listings(account)):
        fees = sandbox.state.catalog_rows(FEES.name, account, listing["id"])
        if fees:
            return listing["id"], fees[0]["id"]
    raise AssertionError("the seed gives some listing a fee")


@pytest.mark.parametrize("threshold", [200, 0], ids=["cheap: re-read whole", "slice"])
def test_a_fee_deleted_under_an_unchanged_listing_and_the_next_full_sync(
    wired: Wired, sandbox: SandboxServer, threshold: int
) -> None:
    account = sandbox.state.account_ids()[0]
    listings = len(sandbox.state.listings(account))

    def night() -> SyncEngine:  # the real clock: `synced_at` and verifications are ours
        return SyncEngine(wired.client(sandbox, account), wired.engine, account,
                          reread_max_requests=threshold)  # fmt: skip

    night().run(FEES.parent, SyncMode.FULL, LOOKBACK)  # type: ignore[arg-type]
    night().run(FEES, SyncMode.FULL, LOOKBACK)
    listing, fee = _a_fee_of_the_last_listing(sandbox, account)
    assert fee in _live_fees(wired, account)
    sandbox.state.delete_object(FEES.name, account, fee, listing)  # the listing stays unchanged

    sandbox.stats.reset()
    later = night()
    later.run(FEES.parent, SyncMode.FULL, LOOKBACK)  # type: ignore[arg-type]
    report = later.run(FEES, SyncMode.FULL, LOOKBACK)
    asked = sandbox.stats.count(path_prefix="/v1/listingFeeSettings/")
    if threshold >= listings:  # 7 requests: every listing's fees, every full sync
        assert asked == listings and report.reverify_slice == listings
        assert fee not in _live_fees(wired, account)
        assert report.table(FEES.table).soft_deleted == 1
    else:  # the slice: a seventh of the listings a night, the deletion waits its turn
        assert asked == 1 and fee in _live_fees(wired, account)


def test_a_reconcile_re_reads_every_child_of_an_expensive_entity(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    reservations = len(sandbox.state.reservations(account))
    sync = SyncEngine(wired.client(sandbox, account), wired.engine, account,
                      reread_max_requests=10)  # fmt: skip
    sync.run(catalog.RESERVATIONS, SyncMode.FULL, LOOKBACK)
    sync.run(FINANCE, SyncMode.FULL, LOOKBACK)
    (cov,) = coverage(wired.engine, account, [FINANCE])
    assert (cov.parents, cov.never) == (reservations, 0) and cov.oldest is not None
    nightly = SyncEngine(wired.client(sandbox, account), wired.engine, account,
                         reread_max_requests=10)  # fmt: skip
    sandbox.stats.reset()
    nightly.run(FINANCE, SyncMode.FULL, LOOKBACK)  # 35 parents > 10: the slice, 5 of them
    assert sandbox.stats.count(path_prefix="/v1/financeField/") == -(-reservations // 7)
    reconcile = SyncEngine(wired.client(sandbox, account), wired.engine, account,
                           reread_max_requests=10, reconcile=True)  # fmt: skip
    sandbox.stats.reset()
    reconcile.run(FINANCE, SyncMode.FULL, LOOKBACK)
    assert sandbox.stats.count(path_prefix="/v1/financeField/") == reservations


def test_the_rule_lines_say_what_each_child_entity_costs_and_how_stale_it_is() -> None:
    cheap = full_rule("listing_fee_settings", 50, 0, timedelta(hours=20), 200, 7)
    dear = full_rule("reservation_finance_fields", 2000, 3, timedelta(days=6), 200, 7)
    assert (cheap.whole, cheap.per_full) == (True, 50)
    assert (dear.whole, dear.per_full) == (False, 286)  # ceil(2000 / 7)
    lines = format_rules([cheap, dear], 200)
    assert "at most 200 requests" in lines[0]
    assert lines[1] == (
        "  listing_fee_settings: whole of 50 parents (50 requests per full sync, 50 to "
        "reconcile); oldest unverified parent 0.8 days"
    )
    assert lines[2] == (
        "  reservation_finance_fields: slice of 286 of 2,000 parents (286 requests per full "
        "sync, 2,000 to reconcile); oldest unverified parent 6.0 days, 3 never read"
    )
