"""The COPY path's errors are SQLAlchemy errors like the INSERT path's, classified the same way,
and their text (which PostgreSQL fills with the refused row) never reaches a typed error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline.warehouse.bulk import copy_upsert
from hostaway_pipeline.warehouse.db import JSONText
from hostaway_pipeline.warehouse.errors import connection_lost, refused

GUEST = "Bartholomew Copypath"


@pytest.fixture
def pg(fresh_pg_url: str) -> Iterator[sa.Engine]:
    engine = db.create_engine(fresh_pg_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def row(i: int, payload: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"account_id": 1, "id": i, "payload": JSONText(payload), "payload_hash": "h",
            "first_seen_at": now, "synced_at": now, "deleted_at": None}  # fmt: skip


def copy(conn: sa.Connection, rows: list[dict[str, object]]) -> None:
    copy_upsert(conn, schema.listings, rows, ["account_id", "id"], ["payload", "synced_at"])


def test_a_refused_copy_is_a_dbapi_error_classified_as_refused(pg: sa.Engine) -> None:
    bad = '{"guestName": "' + GUEST + '\\u0000"}'  # JSONB refuses \u0000
    with pytest.raises(sa.exc.DBAPIError) as caught, pg.begin() as conn:
        copy(conn, [row(i, '{"ok": 1}') for i in range(60)] + [row(99, bad)])
    exc = caught.value
    assert not connection_lost(exc)
    assert GUEST in str(exc.orig)  # what the driver says, and why it must never be shown
    assert GUEST not in refused(exc) and refused(exc).endswith("SQLSTATE 22P05")


def test_a_connection_killed_before_copy_is_a_lost_connection(pg: sa.Engine) -> None:
    admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with pytest.raises(sa.exc.DBAPIError) as caught, pg.begin() as conn:
        pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        copy(conn, [row(i, '{"ok": 1}') for i in range(60)])
    admin.dispose()
    assert connection_lost(caught.value)
    with pg.connect() as conn:  # the pool recovered
        assert conn.scalar(sa.text("SELECT 1")) == 1
