"""The children's watermark of each parent: table `child_marks` (no HTTP, no Dagster).

A conversation's `messageSentOn` / `messageReceivedOn` say when its newest messages were
written; the sync refetches a conversation's messages when they moved since its children were
last fetched whole (sync/children.py). Those stamps *as of that fetch* are kept here, apart from
the conversation row: the row is data users read, and webhooks refresh it from the API the moment
a message arrives (webhooks/apply.py), which must not tell the next sweep that the conversation's
other messages (an outgoing reply, a lost event) were fetched too.

A parent with no row here is compared with its stored parent row, as before this table existed;
so before anything else overwrites a parent row, `keep` copies its stamps here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import child_marks

Marks = dict[str, Any]


def load(conn: sa.Connection, account_id: int, stream: str, parent_ids: Iterable[int]
         ) -> dict[int, Marks]:  # fmt: skip
    """The stored marks of these parents (absent: none stored)."""
    ids = [p for p in parent_ids if isinstance(p, int)]
    if not ids:
        return {}
    t = child_marks
    rows = conn.execute(
        sa.select(t.c.parent_id, t.c.marks).where(
            t.c.account_id == account_id, t.c.stream == stream, t.c.parent_id.in_(ids)
        )
    )
    return {int(r.parent_id): json.loads(r.marks) for r in rows}


def save(conn: sa.Connection, account_id: int, stream: str, marks: Mapping[int, Marks]) -> None:
    """Set the marks of these parents (their children are fetched, or delivered, up to them)."""
    for pid, values in marks.items():
        stmt = dialect_insert(conn, child_marks).values(
            account_id=account_id, stream=stream, parent_id=pid, marks=json.dumps(values)
        )
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["account_id", "stream", "parent_id"], set_={"marks": stmt.excluded.marks}
        ))  # fmt: skip


def keep(conn: sa.Connection, account_id: int, stream: str, parent_id: int, marks: Marks) -> None:
    """Store `marks` unless the parent has some already (its watermark does not move)."""
    stmt = dialect_insert(conn, child_marks).values(
        account_id=account_id, stream=stream, parent_id=parent_id, marks=json.dumps(marks)
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["account_id", "stream", "parent_id"]))


def pick(record: Mapping[str, Any], fields: Iterable[str]) -> Marks:
    """The change fields of a parent record, as served where they are text. Only text can be read
    back as a stamp (sync/convert.py `cursor_value`); any other value (a number, a NaN the client
    kept as its literal, a list) is kept as None, which reads back the same (no stamp) and, unlike
    a NaN literal, can be stored."""
    return {f: value if isinstance(value := record.get(f), str) else None for f in fields}
