"""Start-up check: every table and typed column the catalog declares exists in the warehouse.

A spec field whose column no migration created would otherwise be written nowhere (or fail on
the first page of the first sync, mid-run). `db.upgrade` runs this after migrating, so a missing
migration stops the process at start-up with the table and column named.
"""

from __future__ import annotations

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.errors import WarehouseError, safe_url


class WarehouseSchemaError(WarehouseError):
    """The migrated warehouse lacks a table or column the catalog declares: add a migration."""


def missing_columns(conn: sa.Connection) -> dict[str, list[str]]:
    """Entity table -> catalog columns the database lacks (every column when the table is absent)."""
    on_pg = conn.dialect.name == "postgresql"
    inspector = sa.inspect(conn)
    where = schema.SCHEMA if on_pg else None
    # One catalog query for every table (a query per table cost ~0.4 s at each process's start).
    present = {
        name: {c["name"] for c in columns}
        for (_, name), columns in inspector.get_multi_columns(
            schema=where, filter_names=list(schema.ENTITY_TABLES)
        ).items()
    }
    missing: dict[str, list[str]] = {}
    for name, table in schema.ENTITY_TABLES.items():
        if name not in present:
            missing[name] = [c.name for c in table.columns]
            continue
        lacking = [c.name for c in table.columns if c.name not in present[name]]
        if lacking:
            missing[name] = lacking
    return missing


def verify_catalog(conn: sa.Connection, url: sa.URL | str) -> None:
    """Raise WarehouseSchemaError naming every catalog table/column the warehouse lacks."""
    missing = missing_columns(conn)
    if not missing:
        return
    described = "; ".join(
        f"table {name} is missing" if len(cols) == len(schema.ENTITY_TABLES[name].columns)
        else f"{name} lacks {', '.join(cols)}"
        for name, cols in sorted(missing.items())
    )  # fmt: skip
    raise WarehouseSchemaError(
        f"the warehouse at {safe_url(url)} does not match the entity catalog ({described}): a spec in "
        "hostaway_pipeline/catalog/__init__.py declares columns no migration created; generate one with "
        '`python -m hostaway_pipeline.warehouse.revision "<message>"` and start again'
    )
