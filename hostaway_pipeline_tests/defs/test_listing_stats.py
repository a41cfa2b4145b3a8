"""listing_monthly_stats recomputes only when the reservations it is computed from changed."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.sandbox import SandboxServer
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.defs.test_assets import materializations, run
from hostaway_pipeline_tests.helpers import Wired

STATS = "hostaway/listing_monthly_stats"


def _stored(engine: sa.Engine, account: int) -> list[tuple[object, ...]]:
    table = schema.table("listing_monthly_stats")
    query = (
        sa.select(table.c.listing_id, table.c.month, table.c.booked_nights, table.c.computed_at)
        .where(table.c.account_id == account)
        .order_by(table.c.listing_id, table.c.month)
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_stats_are_kept_while_reservations_are_unchanged_and_recomputed_when_they_change(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    full = materializations(run(defs, instance, account, "full"))[STATS]
    assert full["recomputed"] is True and int(full["dagster/partition_row_count"]) > 0  # type: ignore[call-overload]
    first = _stored(wired.engine, account)

    quiet = materializations(run(defs, instance, account, "incremental"))[STATS]
    assert quiet["recomputed"] is False
    for key in ("dagster/partition_row_count", "listings", "booked_nights"):
        assert quiet[key] == full[key], key
    assert quiet["revenue"] == pytest.approx(full["revenue"], abs=0.01)
    assert _stored(wired.engine, account) == first  # not rewritten: same computed_at

    reservation = next(
        r for r in sandbox.state.reservations(account) if r["status"] in ("new", "modified")
    )
    departure = date.fromisoformat(reservation["departureDate"]) + timedelta(days=3)
    sandbox.state.update_reservation(
        account,
        reservation["id"],
        departureDate=departure.isoformat(),
        nights=reservation["nights"] + 3,
    )
    changed = materializations(run(defs, instance, account, "incremental"))[STATS]
    assert changed["recomputed"] is True
    assert changed["booked_nights"] == int(full["booked_nights"]) + 3  # type: ignore[call-overload]


def test_stats_removed_behind_the_pipelines_back_are_recomputed(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    full = materializations(run(defs, instance, account, "full"))[STATS]
    table = schema.table("listing_monthly_stats")
    with wired.engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.account_id == account))
    again = materializations(run(defs, instance, account, "incremental"))[STATS]
    assert again["recomputed"] is True
    assert again["dagster/partition_row_count"] == full["dagster/partition_row_count"]
