"""Adding an entity is one spec: a throwaway entity, added to the catalog at run time for a new
sandbox endpoint, is synced, checked, scheduled in full and incremental mode and soft-deleted,
through real Dagster execution, with no other file changed.

The table the generated migration would create is created here from the same spec (the
definitions/migrations no-diff test holds the real catalog to its migrations).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog
from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog.spec import Cadence, Incremental, Kind, Pagination, StreamSpec, f
from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.accounts.schedules import FULL_SCHEDULE, INCREMENTAL_SCHEDULE
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.support.dagster_runs import run, schedule_tick
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.catalog import Endpoint, SeedContext

pytestmark = pytest.mark.catalog  # syncs every catalog entity

SURVEYS = StreamSpec(
    name="guest_surveys",
    path="/guestSurveys",
    table="guest_surveys",
    pagination=Pagination.OFFSET,
    incremental=Incremental.FULL_LISTING,
    cadence=Cadence.HOT,
    description="Guest satisfaction surveys (a throwaway endpoint of the tests).",
    fields=(f("listing_map_id", "listingMapId", Kind.BIGINT), f("score", "score", Kind.INT)),
)


def _surveys(ctx: SeedContext) -> list[dict[str, Any]]:
    return [
        {"id": ctx.id(k), "listingMapId": listing["id"], "score": ctx.rng.randint(1, 5)}
        for k, listing in enumerate(ctx.listings)
    ]


@pytest.fixture
def with_surveys(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, wired: Wired
) -> Iterator[sa.Table]:
    """The one step: the spec in the catalog (and its table, as its migration would make it)."""
    sandbox.register_endpoint(Endpoint("guest_surveys", "/v1/guestSurveys", _surveys,
                                       paging="offset"))  # fmt: skip
    entities, steps = (*catalog.CATALOG, SURVEYS), (*catalog.STREAMS, SURVEYS)
    for module in (catalog, streams):
        monkeypatch.setattr(module, "CATALOG", entities)
        monkeypatch.setattr(module, "STREAMS", steps)
    table = schema.entity_table(SURVEYS)
    monkeypatch.setitem(schema.ENTITY_TABLES, SURVEYS.table, table)
    table.create(wired.engine)
    yield table
    schema.metadata.remove(table)


def test_a_spec_added_to_the_catalog_is_synced_checked_scheduled_and_soft_deleted(
    with_surveys: sa.Table,
    settings: Settings,
    instance: dg.DagsterInstance,
    wired: Wired,
    sandbox: SandboxServer,
) -> None:
    defs = build_definitions(settings)
    key = dg.AssetKey(["hostaway", "guest_surveys"])
    graph = defs.get_repository_def().asset_graph
    assert key in graph.get_all_asset_keys()
    assert {c.name for c in graph.asset_check_keys if c.asset_key == key} == {
        "no_duplicate_records", "row_count_matches_api", "entity_available",
    }  # fmt: skip

    # Both schedules configure its step (a step missing from their run config would run
    # incremental under the full schedule and never soft-delete).
    account = sandbox.state.account_ids()[0]
    instance.add_dynamic_partitions("hostaway_accounts", [str(account)])
    for name, mode in ((FULL_SCHEDULE, "full"), (INCREMENTAL_SCHEDULE, "incremental")):
        requests = schedule_tick(defs, instance, name).run_requests or []
        assert requests
        for request in requests:
            op = request.run_config["ops"]["hostaway__guest_surveys"]
            assert op["config"]["mode"] == mode

    served = sandbox.state.catalog_rows("guest_surveys", account)
    result = run(defs, instance, account, "full")
    assert result.success
    mats = {
        e.materialization.asset_key: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert mats[key]["dagster/partition_row_count"].value == len(served) > 0
    checks = [c for c in result.get_asset_check_evaluations() if c.asset_key == key]
    assert len(checks) == 3 and all(c.passed for c in checks)  # entity_available too

    gone = served[0]["id"]
    sandbox.state.delete_object("guest_surveys", account, gone)
    assert run(defs, instance, account, "incremental").success  # hot: synced every incremental
    assert run(defs, instance, account, "full").success  # the full listing soft-deletes
    with wired.engine.connect() as conn:
        deleted = conn.scalars(
            sa.select(with_surveys.c.id).where(with_surveys.c.deleted_at.is_not(None))
        ).all()
    assert deleted == [gone]
    assert defs.resolve_job_def(SYNC_JOB_NAME)  # one job still serves every entity
