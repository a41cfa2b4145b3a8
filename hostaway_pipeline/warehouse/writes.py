"""Writing entity rows: hash-guarded upserts and soft deletes, inside the caller's transaction.

A row is rewritten only when it is new, its payload changed, or it had been soft-deleted
(then it is "restored"); unchanged rows keep their `synced_at`, so `synced_at` tells when the
warehouse row last changed (insert, update, restore or soft delete).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hostaway_pipeline.client.payloads import storable_json
from hostaway_pipeline.warehouse.bulk import copy_upsert
from hostaway_pipeline.warehouse.db import JSONText, dialect_insert
from hostaway_pipeline.warehouse.schema import typed_columns

# From this many changed rows on, PostgreSQL writes go through COPY (see bulk.py); measured
# faster already for 100-row pages. Smaller batches use one pipelined executemany.
COPY_THRESHOLD = 50
# SQLite allows 32766 bound parameters per statement; PostgreSQL takes one array parameter.
_SQLITE_CHUNK = 1000
_PG_CHUNK = 50_000

# A row's `id`: the API's integer id, or the text of its key columns (see catalog/spec.py).
RowId = int | str


@dataclass(frozen=True)
class BatchCounts:
    """What an upsert did to each distinct row of a batch.

    `sanitized`: ids of rows written whose payload held values the database cannot store as they
    are (NUL, unpaired surrogates, NaN, Infinity, numbers beyond a float); those values were
    stored marked and exactly recoverable (`hostaway_pipeline.client.payloads.restore`).
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0
    sanitized: tuple[RowId, ...] = field(default=(), compare=False)  # ids, not a count

    @property
    def written(self) -> int:
        """Rows actually written (inserted, updated or restored)."""
        return self.inserted + self.updated + self.restored

    @property
    def total(self) -> int:
        """Distinct rows seen."""
        return self.written + self.unchanged

    def __add__(self, other: BatchCounts) -> BatchCounts:
        return BatchCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.restored + other.restored,
            self.sanitized + other.sanitized,
        )


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The payload's canonical JSON as stored: sorted keys, compact, UTF-8, and values the
    database cannot hold marked (see `hostaway_pipeline.client.payloads`)."""
    return storable_json(payload)[0]


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 hex of the payload's canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def upsert_rows(
    conn: sa.Connection,
    table: sa.Table,
    account_id: int,
    rows: Iterable[Mapping[str, Any]],
    now: datetime | None = None,
) -> BatchCounts:
    """Upsert `rows` ({"id", "payload", typed columns...}) of one account; last duplicate wins."""
    now = now or datetime.now(UTC)
    typed = typed_columns(table)
    batch = _dedupe(table, typed, rows)
    if not batch:
        return BatchCounts()
    existing: dict[RowId, tuple[str, datetime | None]] = {}
    for chunk in _chunks(conn, list(batch)):
        query = sa.select(table.c.id, table.c.payload_hash, table.c.deleted_at).where(
            table.c.account_id == account_id, _id_in(conn, table.c.id, chunk)
        )
        existing.update((r.id, (r.payload_hash, r.deleted_at)) for r in conn.execute(query))

    inserted = updated = unchanged = restored = 0
    sanitized: list[RowId] = []
    to_write: list[dict[str, Any]] = []
    for row_id, row in batch.items():
        canonical, marked = storable_json(row["payload"])
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        old = existing.get(row_id)
        if old is None:
            inserted += 1
        elif old[1] is not None:
            restored += 1
        elif old[0] != digest:
            updated += 1
        else:
            unchanged += 1
            continue
        if marked:
            sanitized.append(row_id)
        values = {c: row.get(c) for c in typed}
        values.update(
            account_id=account_id,
            id=row_id,
            payload=JSONText(canonical),
            payload_hash=digest,
            first_seen_at=now,
            synced_at=now,
            deleted_at=None,
        )
        to_write.append(values)

    changing = ["payload", "payload_hash", "synced_at", "deleted_at", *typed]  # not first_seen_at
    if len(to_write) >= COPY_THRESHOLD and conn.dialect.driver == "psycopg":  # PG, psycopg 3
        copy_upsert(conn, table, to_write, ["account_id", "id"], changing)
    elif to_write:
        stmt = dialect_insert(conn, table)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.account_id, table.c.id],
                set_={c: stmt.excluded[c] for c in changing},
            ),
            to_write,
        )
    return BatchCounts(inserted, updated, unchanged, restored, tuple(sanitized))


def soft_delete_missing(
    conn: sa.Connection,
    table: sa.Table,
    account_id: int,
    seen_ids: set[RowId],
    scope: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> int:
    """Mark live rows of the account (within `scope`, e.g. {"conversation_id": 5}) not in
    `seen_ids` as deleted; returns how many. Call it only after a complete listing of the scope.
    """
    now = now or datetime.now(UTC)
    where = [table.c.account_id == account_id, table.c.deleted_at.is_(None)]
    for name, value in (scope or {}).items():
        if name not in table.c:
            raise ValueError(f"{table.name} has no column {name!r} to scope a soft delete by")
        where.append(table.c[name].is_(None) if value is None else table.c[name] == value)
    # Reading the live ids and diffing here scales to 100k+ ids with no temp table.
    live = conn.scalars(sa.select(table.c.id).where(*where)).all()
    missing = sorted(set(live) - seen_ids)
    deleted = 0
    for chunk in _chunks(conn, missing):
        result = conn.execute(
            sa.update(table)
            .where(*where, _id_in(conn, table.c.id, chunk))
            .values(deleted_at=now, synced_at=now)
        )
        deleted += result.rowcount
    return deleted


def live_ids(conn: sa.Connection, table: sa.Table, account_id: int) -> set[RowId]:
    """Ids of the account's rows that are not soft-deleted."""
    query = sa.select(table.c.id).where(
        table.c.account_id == account_id, table.c.deleted_at.is_(None)
    )
    return set(conn.scalars(query))


def _dedupe(
    table: sa.Table, typed: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> dict[RowId, Mapping[str, Any]]:
    allowed = {"id", "payload", *typed}
    batch: dict[RowId, Mapping[str, Any]] = {}
    for row in rows:
        row_id = row.get("id")
        want = str if isinstance(table.c.id.type, sa.Text) else int
        if isinstance(row_id, bool) or not isinstance(row_id, want):
            kind = "an int" if want is int else "a str"
            raise ValueError(f"{table.name}: row id must be {kind}, got {row_id!r}")
        if not isinstance(row.get("payload"), Mapping):
            raise ValueError(f"{table.name} row {row_id}: payload must be a dict")
        unknown = row.keys() - allowed
        if unknown:
            raise ValueError(f"{table.name} row {row_id}: unknown columns {sorted(unknown)}")
        batch.pop(row_id, None)  # keep the order of the last occurrence
        batch[row_id] = row
    return batch


def _chunks(conn: sa.Connection, ids: list[RowId]) -> Iterator[list[RowId]]:
    size = _PG_CHUNK if conn.dialect.name == "postgresql" else _SQLITE_CHUNK
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _id_in(
    conn: sa.Connection, column: sa.ColumnElement[Any], ids: list[RowId]
) -> sa.ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        element = sa.Text() if isinstance(column.type, sa.Text) else sa.BigInteger()
        return column == sa.any_(sa.literal(ids, postgresql.ARRAY(element)))
    return column.in_(ids)
