"""The catalog is the schema: tables derive from the specs, and a column no migration created
stops the process at start-up (db.upgrade) instead of being written nowhere."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import Field, Kind
from hostaway_pipeline.warehouse import db, revision, schema
from hostaway_pipeline.warehouse.verify import WarehouseSchemaError


@pytest.mark.parametrize("spec", streams.CATALOG, ids=lambda s: s.name)
def test_every_entity_table_is_its_specs_columns(spec: streams.StreamSpec) -> None:
    table = schema.table(spec.table)
    assert schema.typed_columns(table) == list(spec.typed_columns())
    assert [c.name for c in table.primary_key.columns] == ["account_id", "id"]
    assert {tuple(c.name for c in ix.columns) for ix in table.indexes} == set(spec.indexes)


def test_a_spec_column_the_warehouse_lacks_fails_at_start_up(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.create_engine(any_db_url)
    db.upgrade(engine)
    # A field added to the spec without a migration: the table derived from it has the column,
    # the migrated warehouse does not.
    typo = dataclasses.replace(
        streams.LISTINGS,
        fields=(*streams.LISTINGS.fields, Field("nightly_rate", "rate", Kind.DECIMAL)),
    )
    derived = schema.entity_table(typo, sa.MetaData(schema=schema.SCHEMA))
    monkeypatch.setitem(schema.ENTITY_TABLES, "listings", derived)
    with pytest.raises(WarehouseSchemaError) as caught:
        db.upgrade(engine)
    message = str(caught.value)
    assert "listings lacks nightly_rate" in message
    assert "hostaway_pipeline.warehouse.revision" in message  # says what to do
    engine.dispose()


def test_a_column_dropped_from_the_warehouse_fails_at_start_up(fresh_pg_url: str) -> None:
    engine = db.create_engine(fresh_pg_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE hostaway.messages DROP COLUMN sent_at"))
    with pytest.raises(WarehouseSchemaError, match="messages lacks sent_at"):
        db.upgrade(engine)
    engine.dispose()


def test_a_spec_naming_a_shared_column_or_a_column_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="clash with the shared columns"):
        dataclasses.replace(
            streams.LISTINGS, fields=(*streams.LISTINGS.fields, Field("payload", "x", Kind.STR))
        )
    with pytest.raises(ValueError, match="declared twice"):
        dataclasses.replace(
            streams.LISTINGS, fields=(*streams.LISTINGS.fields, Field("city", "town", Kind.STR))
        )


def test_the_migration_generator_finds_nothing_to_do_for_the_shipped_catalog(
    fresh_pg_url: str,
) -> None:
    engine = db.create_engine(fresh_pg_url)
    db.upgrade(engine, verify=False)
    assert revision.render(engine) is None  # definitions and migrations agree
    engine.dispose()


def test_the_migration_generator_renders_a_new_entity_from_its_spec(fresh_pg_url: str) -> None:
    engine = db.create_engine(fresh_pg_url)
    db.upgrade(engine, verify=False)
    target = sa.MetaData(schema=schema.SCHEMA, naming_convention=schema.metadata.naming_convention)
    for table in schema.metadata.sorted_tables:
        table.to_metadata(target)
    spec = streams.StreamSpec(
        name="guest_surveys", path="/guestSurveys", table="guest_surveys", pagination=streams.Pagination.OFFSET,
        incremental=streams.Incremental.FULL_LISTING, indexes=(("account_id", "listing_map_id"),),
        fields=(Field("listing_map_id", "listingMapId", Kind.BIGINT),
                Field("submitted_at", "submittedAt", Kind.DATETIME)),
    )  # fmt: skip
    schema.entity_table(spec, target)
    bodies = revision.render(engine, target)
    assert bodies is not None
    up, down = bodies
    assert "op.create_table('guest_surveys'" in up
    assert "sa.Column('submitted_at', sa.DateTime(timezone=True)" in up
    assert "schema='hostaway'" in up
    assert "op.create_index('ix_guest_surveys_account_id_listing_map_id'" in up
    assert "op.drop_table('guest_surveys'" in down
    # The rendered body is runnable Alembic code that creates exactly that table.
    with engine.begin() as conn:
        from alembic.operations import Operations

        ops = Operations(MigrationContext.configure(conn))
        code = "def upgrade():\n    " + up + "\nupgrade()\n"  # as the revision file holds it
        namespace = {"op": ops, "sa": sa, "postgresql": postgresql}
        exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 (our own generated code)
    assert revision.render(engine, target) is None
    engine.dispose()
