"""Parents whose movement webhooks already delivered: no refetch of their children.

A conversation's `messageReceivedOn` moves when a message arrives; with webhooks the message
itself is already stored (`webhooks process`). If every change field of a parent that moved (or is
recent) equals a stored, live child *delivered by webhook* in that direction (same `sent_at`, same
`is_incoming`), the newest children polling would fetch are already here, and the parent's row
is simply updated: the request the refetch would cost is saved. Anything else is refetched as
before: a mark with no such child (an outgoing message the webhooks did not carry, a lost event),
a child that polling itself wrote (so accounts without webhooks behave exactly as before, the
same-second race included), or events already purged from the inbox.

What this can leave stale: an earlier child lost by the webhooks while a later one in the same
direction arrived before the next poll (Hostaway retries a failed delivery 3 times in about an
hour, so this needs an outage of the receiver for one event and not the next), and a second child
stamped in the very second of a delivered one. Both are repaired by the full sync's rolling
re-verification (sync/reverify.py) within its period, or sooner by the next child in that
conversation that webhooks do not deliver.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.sync.core import _aware
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.schema import webhook_events

# (parent id, flag, mark): a webhook-delivered live child of that parent stamped at that mark.
Delivered = set[tuple[int, bool, datetime]]


def delivered_marks(
    conn: sa.Connection, spec: StreamSpec, account_id: int, parent_ids: list[int]
) -> Delivered:
    """The marks of `parent_ids` for which a live child delivered by webhook is stored."""
    if not spec.child_marks or not parent_ids or spec.parent_key_column is None:
        return set()
    table = schema.table(spec.table)
    mark = spec.child_marks[0]  # one column and flag column for all marks (checked below)
    assert all(
        (m.column, m.flag_column) == (mark.column, mark.flag_column) for m in spec.child_marks
    )
    parent_col, date_col, flag_col = (
        table.c[spec.parent_key_column], table.c[mark.column], table.c[mark.flag_column]
    )  # fmt: skip
    delivered = (
        sa.select(webhook_events.c.entity_id)
        .where(
            webhook_events.c.account_id == account_id,
            webhook_events.c.object == spec.webhook_object,
            webhook_events.c.applied_at.is_not(None),
            webhook_events.c.entity_id == table.c.id,
        )
        .exists()
    )
    rows = conn.execute(
        sa.select(parent_col, flag_col, date_col)
        .where(
            table.c.account_id == account_id,
            parent_col.in_(parent_ids),
            table.c.deleted_at.is_(None),
            date_col.is_not(None),
            delivered,
        )
        .distinct()
    )
    out: Delivered = set()
    for pid, flag, at in rows:
        aware = _aware(at)
        if aware is not None:
            out.add((int(pid), bool(flag), aware))
    return out


def covered(
    spec: StreamSpec, pid: int, pending: Mapping[str, datetime | None], delivered: Delivered
) -> bool:
    """True when every pending mark of the parent (field -> its value now) is a delivered child."""
    if not pending:
        return False
    flags = {m.parent_field: m.flag for m in spec.child_marks}
    return all(
        field in flags and (pid, flags[field], at) in delivered for field, at in pending.items()
    )
