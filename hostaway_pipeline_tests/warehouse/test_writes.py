"""Upserts and soft deletes: counts, hash guard, restores, scopes and scale."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import (
    COPY_THRESHOLD,
    BatchCounts,
    live_ids,
    payload_hash,
    soft_delete_missing,
    upsert_rows,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
res = schema.reservations
msgs = schema.messages


def reservation(rid: int, status: str = "new", **extra: Any) -> dict[str, Any]:
    payload = {"id": rid, "status": status, "guestName": "Zoë Ñandú", **extra}
    return {
        "id": rid,
        "payload": payload,
        "status": status,
        "listing_map_id": 500 + rid % 3,
        "arrival_date": date(2026, 12, 1),
        "total_price": Decimal("123.45"),
        "updated_on": T0,
    }


def message(mid: int, conversation_id: int) -> dict[str, Any]:
    return {"id": mid, "payload": {"id": mid, "body": "hi"}, "conversation_id": conversation_id}


def rows_of(engine: sa.Engine, table: sa.Table, account_id: int = 1) -> dict[int, Any]:
    with engine.connect() as conn:
        query = sa.select(table).where(table.c.account_id == account_id)
        return {row.id: row for row in conn.execute(query)}


def upsert(
    engine: sa.Engine, rows: list[dict[str, Any]], now: datetime, account_id: int = 1
) -> BatchCounts:
    with engine.begin() as conn:
        return upsert_rows(conn, res, account_id, rows, now=now)


def test_counts_inserted_updated_unchanged_and_restored(engine: sa.Engine) -> None:
    assert upsert(engine, [reservation(1), reservation(2), reservation(3)], T0) == BatchCounts(
        inserted=3
    )
    with engine.begin() as conn:
        assert soft_delete_missing(conn, res, 1, {1, 2}, now=T1) == 1
    counts = upsert(
        engine, [reservation(1), reservation(2, "modified"), reservation(3), reservation(4)], T2
    )
    assert counts == BatchCounts(inserted=1, updated=1, unchanged=1, restored=1)
    assert (counts.written, counts.total) == (3, 4)
    assert counts + counts == BatchCounts(2, 2, 2, 2)


def test_typed_columns_payload_and_bookkeeping_are_stored(engine: sa.Engine) -> None:
    upsert(engine, [reservation(1)], T0)
    row = rows_of(engine, res)[1]
    assert row.payload == {"id": 1, "status": "new", "guestName": "Zoë Ñandú"}
    assert row.payload_hash == payload_hash(row.payload)
    assert (row.status, row.listing_map_id, row.arrival_date) == ("new", 501, date(2026, 12, 1))
    assert row.total_price == Decimal("123.45")
    assert row.updated_on == T0 and row.updated_on.tzinfo == UTC
    assert (row.first_seen_at, row.synced_at, row.deleted_at) == (T0, T0, None)
    assert row.channel_name is None  # typed columns not given are NULL


def test_unchanged_rows_are_not_rewritten_and_first_seen_is_kept(engine: sa.Engine) -> None:
    upsert(engine, [reservation(1), reservation(2)], T0)
    upsert(engine, [reservation(1), reservation(2, "modified")], T1)
    stored = rows_of(engine, res)
    assert (stored[1].synced_at, stored[1].first_seen_at) == (T0, T0)
    assert (stored[2].synced_at, stored[2].first_seen_at) == (T1, T0)
    assert stored[2].status == "modified"


def test_key_order_does_not_count_as_a_change(engine: sa.Engine) -> None:
    upsert(engine, [{"id": 1, "payload": {"a": 1, "b": [1, {"x": 2, "y": 3}]}}], T0)
    again = upsert(engine, [{"id": 1, "payload": {"b": [1, {"y": 3, "x": 2}], "a": 1}}], T1)
    assert again == BatchCounts(unchanged=1)


def test_duplicates_in_a_batch_count_once_and_the_last_wins(engine: sa.Engine) -> None:
    counts = upsert(engine, [reservation(1, "first"), reservation(2), reservation(1, "last")], T0)
    assert counts == BatchCounts(inserted=2)
    assert rows_of(engine, res)[1].status == "last"


def test_accounts_do_not_share_rows(engine: sa.Engine) -> None:
    upsert(engine, [reservation(1)], T0, account_id=1)
    assert upsert(engine, [reservation(1)], T0, account_id=2) == BatchCounts(inserted=1)
    assert set(rows_of(engine, res, 2)) == {1}


def test_an_empty_batch_does_nothing(engine: sa.Engine) -> None:
    assert upsert(engine, [], T0) == BatchCounts()


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"id": "1", "payload": {}}, "id must be an int"),
        ({"id": 1, "payload": None}, "payload must be a dict"),
        ({"id": 1, "payload": {}, "guest_name": "x"}, "unknown columns"),
        ({"id": 1, "payload": {}, "updated_on": datetime(2026, 1, 1)}, "naive datetime"),
    ],
)
def test_bad_rows_are_refused(engine: sa.Engine, row: dict[str, Any], error: str) -> None:
    with pytest.raises((ValueError, sa.exc.StatementError), match=error):
        upsert(engine, [row], T0)


def test_non_utc_datetimes_are_stored_as_the_same_instant_in_utc(engine: sa.Engine) -> None:
    plus_two = datetime(2026, 11, 1, 14, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    upsert(engine, [{"id": 1, "payload": {}, "updated_on": plus_two}], T0)
    stored = rows_of(engine, res)[1].updated_on
    assert stored == plus_two and stored.tzinfo == UTC


def test_nul_characters_do_not_break_the_write(engine: sa.Engine) -> None:
    counts = upsert(engine, [{"id": 1, "payload": {"body": "a\x00b"}}], T0)
    assert counts == BatchCounts(inserted=1)
    assert upsert(engine, [{"id": 1, "payload": {"body": "a\x00b"}}], T1) == BatchCounts(
        unchanged=1
    )
    assert "\x00" not in rows_of(engine, res)[1].payload["body"]


def test_large_batches_take_the_bulk_path_with_the_same_results(engine: sa.Engine) -> None:
    n = COPY_THRESHOLD * 3
    first = upsert(engine, [reservation(i) for i in range(1, n + 1)], T0)
    assert first == BatchCounts(inserted=n)
    with engine.begin() as conn:
        soft_delete_missing(conn, res, 1, set(range(1, n + 1, 2)), now=T1)
    changed = [reservation(i, "modified" if i % 4 == 0 else "new") for i in range(1, n + 2)]
    with engine.begin() as conn:  # twice in one transaction: the stage must start empty each time
        second = upsert_rows(conn, res, 1, changed, now=T2)
        assert upsert_rows(conn, res, 1, changed, now=T2) == BatchCounts(unchanged=n + 1)
    assert second == BatchCounts(inserted=1, updated=0, unchanged=n // 2, restored=n // 2)
    stored = rows_of(engine, res)
    assert len(stored) == n + 1
    assert stored[4].status == "modified" and stored[4].first_seen_at == T0
    assert stored[4].synced_at == T2 and stored[4].deleted_at is None
    assert stored[3].synced_at == T0 and stored[3].updated_on == T0
    naive = [{**reservation(i), "updated_on": datetime(2026, 1, 1)} for i in range(n + 2, 2 * n)]
    with pytest.raises((ValueError, sa.exc.StatementError)) as caught:
        upsert(engine, naive, T2)
    # The COPY path wraps what it could not encode (its text may quote data) and keeps the cause.
    assert "naive datetime" in str(getattr(caught.value, "orig", caught.value))


def test_soft_delete_marks_only_missing_live_rows(engine: sa.Engine) -> None:
    upsert(engine, [reservation(i) for i in (1, 2, 3, 4)], T0)
    with engine.begin() as conn:
        assert soft_delete_missing(conn, res, 1, {1, 2}, now=T1) == 2
        assert soft_delete_missing(conn, res, 1, {1, 2}, now=T2) == 0  # already deleted
    stored = rows_of(engine, res)
    assert stored[3].deleted_at == T1 and stored[3].synced_at == T1
    assert stored[1].deleted_at is None and stored[1].synced_at == T0
    with engine.connect() as conn:
        assert live_ids(conn, res, 1) == {1, 2}


def test_soft_delete_within_a_scope(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, msgs, 1, [message(1, 10), message(2, 10), message(3, 20)], now=T0)
        upsert_rows(conn, msgs, 2, [message(4, 10)], now=T0)
        assert soft_delete_missing(conn, msgs, 1, {1}, scope={"conversation_id": 10}, now=T1) == 1
        assert live_ids(conn, msgs, 1) == {1, 3}
        assert live_ids(conn, msgs, 2) == {4}
        with pytest.raises(ValueError, match="no column 'nope'"):
            soft_delete_missing(conn, msgs, 1, set(), scope={"nope": 1})


def test_soft_delete_scales_to_tens_of_thousands_of_ids(engine: sa.Engine) -> None:
    n = 20_000
    with engine.begin() as conn:
        upsert_rows(conn, msgs, 1, [message(i, i % 7) for i in range(1, n + 1)], now=T0)
    seen = set(range(1, n + 1, 2)) | {10**12}  # half missing, plus an id the table never had
    with engine.begin() as conn:
        assert soft_delete_missing(conn, msgs, 1, seen, now=T1) == n // 2
        assert len(live_ids(conn, msgs, 1)) == n // 2
    with engine.begin() as conn:
        counts = upsert_rows(conn, msgs, 1, [message(i, i % 7) for i in range(1, n + 1)], now=T2)
    assert counts == BatchCounts(unchanged=n // 2, restored=n // 2)
