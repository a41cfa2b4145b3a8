"""Endpoints as Hostaway's docs (`Hostaway/api`, `source/includes/`) describe them, against the
sandbox over HTTP and the real warehouses: custom fields of every object type from the current
`/v1/customFields` (paged) rather than the deprecated reservation-only path, and seasonal rules
paged with limit/offset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from hostaway_pipeline import catalog
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline_tests.helpers import Wired, wire
from hostaway_sandbox import SandboxServer

LOOKBACK = timedelta(minutes=5)


@pytest.fixture
def wired(any_db_url: str, secret_key: str, sandbox: SandboxServer) -> Iterator[Wired]:
    w = wire(any_db_url, secret_key, sandbox)
    yield w
    w.engine.dispose()


def _live(w: Wired, table_name: str, account: int) -> dict[object, dict[str, object]]:
    table = schema.table(table_name)
    with w.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table).where(table.c.account_id == account, table.c.deleted_at.is_(None))
        )
        return {r.id: r._asdict() for r in rows}


def test_custom_fields_of_every_object_type_come_from_the_paged_current_endpoint(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    spec = catalog.by_name("custom_fields")
    served = sandbox.state.catalog_rows("custom_fields", account, limit="500")
    assert {r["objectType"] for r in served} == {"reservation", "listing", "task"}
    sandbox.stats.reset()
    client = wired.client(sandbox, account, page_size=4)  # 15 fields: four pages
    SyncEngine(client, wired.engine, account).run(spec, SyncMode.FULL, LOOKBACK)
    rows = _live(wired, spec.table, account)
    assert len(rows) == len(served) == 15
    assert {r["object_type"] for r in rows.values()} == {"reservation", "listing", "task"}
    assert sandbox.stats.count(path_prefix="/v1/customFields") == 4
    assert sandbox.stats.count(path_prefix="/v1/reservations/customFields") == 0
    # A field deleted at the source is soft-deleted by the next read of the whole list.
    gone = served[-1]["id"]
    sandbox.state.delete_object("custom_fields", account, gone)
    SyncEngine(client, wired.engine, account).run(spec, SyncMode.INCREMENTAL, LOOKBACK)
    assert gone not in _live(wired, spec.table, account)


def test_seasonal_rules_past_one_page_are_all_mirrored(
    wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    spec = catalog.by_name("seasonal_rules")
    for k in range(4):  # seven rules: four pages of two
        sandbox.state.add_object("seasonal_rules", account, {"title": f"Extra {k}"})
    served = sandbox.state.catalog_rows("seasonal_rules", account)
    sandbox.stats.reset()
    client = wired.client(sandbox, account, page_size=2)
    SyncEngine(client, wired.engine, account).run(spec, SyncMode.FULL, LOOKBACK)
    assert set(_live(wired, spec.table, account)) == {r["id"] for r in served}
    assert len(served) == 7 and sandbox.stats.count(path_prefix="/v1/seasonalRules") == 4


def test_custom_fields_stored_before_the_migration_keep_their_rows_and_get_their_type(
    empty_db_url: str,
) -> None:
    engine = db.create_engine(empty_db_url)
    cfg = db.alembic_config()
    with engine.begin() as conn:  # the warehouse as it was before custom fields had a type
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013")
    table = "hostaway.custom_fields" if engine.dialect.name == "postgresql" else "custom_fields"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO {table} (account_id, id, payload, payload_hash, first_seen_at, "
                "synced_at, deleted_at, name, var_name, type) VALUES (7, 42, :p, 'h', :t, :t, "
                ":t, 'Door code', 'reservation_0', 'text')"
            ),
            {"p": '{"id": 42, "name": "Door code", "objectType": "reservation"}', "t": now},
        )
    db.upgrade(engine)
    custom = schema.table("custom_fields")
    with engine.connect() as conn:
        row = conn.execute(sa.select(custom)).one()
    assert (row.account_id, row.id, row.object_type) == (7, 42, "reservation")
    assert row.payload["name"] == "Door code" and row.deleted_at is not None
    engine.dispose()
