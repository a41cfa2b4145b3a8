"""Retention: purge the personal data of rows soft-deleted longer ago than N days.

Off unless HOSTAWAY_RETENTION_DAYS is set (a positive integer of days). A purged row keeps its
id, its typed columns and the non-personal payload fields (the same redaction as guest erasure),
so counts of past reservations stay right. The guest of a purged reservation or conversation is
also redacted from every other row that names it, deleted or not: calendar days keep their
history (they are never soft-deleted) and embed the booking's guest. Idempotent: a purged
payload is not changed again. A row that comes back (Hostaway serves it again) is restored with
its full payload by the sync.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.privacy.erasure import KEEP, redact_matching, redacted
from hostaway_pipeline.warehouse import schema

RETENTION_ENV = "HOSTAWAY_RETENTION_DAYS"


class RetentionError(ValueError):
    """HOSTAWAY_RETENTION_DAYS is set to something that is not a positive number of days."""


def retention_days(environ: dict[str, str] | None = None) -> int | None:
    """The configured retention in days, or None when retention is off."""
    raw = (os.environ if environ is None else environ).get(RETENTION_ENV, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
        raise RetentionError(f"{RETENTION_ENV} must be a positive number of days, not {raw!r}")
    return int(raw)


def purge_deleted(engine: sa.Engine, days: int, now: datetime | None = None) -> dict[str, int]:
    """Redact payloads of rows soft-deleted before now - `days`; rows changed per table."""
    from hostaway_pipeline.warehouse.writes import payload_hash

    if days <= 0:
        raise RetentionError("retention must be at least one day")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    purged: dict[str, int] = {}
    with engine.begin() as conn:
        for name in KEEP:
            table = schema.table(name)
            query = sa.select(table.c.account_id, table.c.id, table.c.payload).where(
                table.c.deleted_at.is_not(None), table.c.deleted_at < cutoff
            )
            changed = 0
            for row in conn.execute(query).all():
                new = redacted(name, row.payload)
                if new == row.payload:
                    continue
                conn.execute(
                    sa.update(table)
                    .where(table.c.account_id == row.account_id, table.c.id == row.id)
                    .values(payload=new, payload_hash=payload_hash(new))
                )
                changed += 1
            purged[name] = changed
        for account_id, rules in _gone_guests(conn, cutoff).items():
            for name in KEEP:
                purged[name] += redact_matching(conn, name, account_id, rules)
    return purged


def _gone_guests(conn: sa.Connection, cutoff: datetime) -> dict[int, set[tuple[str, str]]]:
    """Per account, the reservations and conversations deleted before `cutoff`, as the erasure
    rules that find the rows naming their guest."""
    out: dict[int, set[tuple[str, str]]] = {}
    for kind, table in (
        ("reservation", schema.reservations),
        ("conversation", schema.conversations),
    ):
        query = sa.select(table.c.account_id, table.c.id).where(
            table.c.deleted_at.is_not(None), table.c.deleted_at < cutoff
        )
        for row in conn.execute(query):
            out.setdefault(row.account_id, set()).add((kind, str(row.id)))
    return out
