"""Guest erasure: remove a guest's personal data from every table, and keep it out.

`erase_guest` records erasure rules in `erasures` (the reservation ids, their conversation ids,
and a SHA-256 of the e-mail address: never the address itself) and redacts the matching rows
now. `redact_erased` is called by the sync engine for every batch it writes, so a later sync
stores the redacted payload even while Hostaway still serves the original. A redacted payload
keeps the row id and the typed, non-personal fields (dates, status, amounts, ids) so counts and
marts stay right, plus `"erased": true`. Both are idempotent.

Which tables, and which of their payload values name a person, is each entity's `erase_by` in
the catalog (reservations, conversations, messages, calendar days that embed the booking, finance
fields, rental agreements, payment charges, coupons, tasks, reviews, expenses; staff in `users`
and webhook alert addresses by e-mail). An e-mail finds the guest's reservations in the
reservations table and in the bookings calendar days embed, so a guest whose reservation row is
not stored (purged, or not selected) is still found. The marts hold ids, dates and money only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog.webhook_routes import ENTITY_OF
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.locks import advisory_key

# The entities holding guest data, by table: what a redacted row keeps (its id and typed,
# non-personal fields) and which payload value matches which kind of rule.
ERASABLE = {spec.table: spec for spec in streams.CATALOG if spec.erase_by}
KEEP: dict[str, frozenset[str]] = {
    t: frozenset({"id", *(f.source for f in spec.fields)}) for t, spec in ERASABLE.items()
}
MATCH: dict[str, tuple[tuple[str, str], ...]] = {t: s.erase_by for t, s in ERASABLE.items()}
# Columns a writer fixes for a batch (the parent id of child rows), as rule kinds.
FIXED_KINDS = {"conversation_id": "conversation", "reservation_id": "reservation"}


class ErasureError(ValueError):
    """An erasure request that cannot be carried out as asked."""


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure did (ids only)."""

    account_id: int
    reservations: tuple[int, ...]
    conversations: tuple[int, ...]
    rows_redacted: int


def email_key(address: str) -> str:
    """How an e-mail address is remembered: SHA-256 of its trimmed, lower-cased form."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def redacted(table_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload with only its id and non-personal typed fields kept."""
    keep = KEEP[table_name]
    return {**{k: v for k, v in payload.items() if k in keep}, "erased": True}


def _key(kind: str, value: Any) -> str | None:
    if kind == "email":
        return email_key(value) if isinstance(value, str) and value.strip() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return str(int(value))
    return None


def _erasure_lock(conn: sa.Connection, account_id: int, exclusive: bool) -> None:
    """A transaction-level lock between erasing (exclusive) and writing (shared) one account's
    rows: a sync that read the rules before an erasure committed cannot write the guest back
    after it. PostgreSQL only (SQLite has one writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        key = advisory_key(f"hostaway-erasure-{account_id}")
        lock = sa.func.pg_advisory_xact_lock if exclusive else sa.func.pg_advisory_xact_lock_shared
        conn.execute(sa.select(lock(key)))


def _rules(conn: sa.Connection, account_id: int) -> set[tuple[str, str]]:
    t = schema.erasures
    query = sa.select(t.c.kind, t.c.key).where(t.c.account_id == account_id)
    return {(r.kind, r.key) for r in conn.execute(query)}


def _matches(
    table_name: str, payload: Mapping[str, Any], rules: set[tuple[str, str]],
    fixed: Mapping[str, object],
) -> bool:  # fmt: skip
    for column, kind in FIXED_KINDS.items():
        if column in fixed and (kind, _key(kind, fixed[column])) in rules:
            return True
    return any(
        (kind, _key(kind, value)) in rules
        for kind, path in MATCH[table_name]
        for value in _values(payload, path)
    )


def _values(payload: Mapping[str, Any], path: str) -> list[Any]:
    """The payload's value at `path`: "field", or "list[].field" for each element of a list."""
    if "[]." not in path:
        return [payload.get(path)]
    outer, inner = path.split("[].", 1)
    items = payload.get(outer)
    return (
        [i.get(inner) for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
    )


def redact_erased(
    conn: sa.Connection,
    table_name: str,
    account_id: int,
    records: Sequence[dict[str, Any]],
    fixed: Mapping[str, object] | None = None,
) -> tuple[list[dict[str, Any]], list[int]]:
    """`records` with erased guests' payloads redacted, and the ids redacted."""
    if table_name not in MATCH or not records:
        return list(records), []
    _erasure_lock(conn, account_id, exclusive=False)
    rules = _rules(conn, account_id)
    if not rules:
        return list(records), []
    out: list[dict[str, Any]] = []
    ids: list[int] = []
    for record in records:
        if _matches(table_name, record, rules, fixed or {}):
            record = redacted(table_name, record)
            ids.append(record["id"])
        out.append(record)
    return out, ids


def erase_guest(
    engine: sa.Engine,
    account_id: int,
    reservation_id: int | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> ErasureReport:
    """Erase one reservation's guest, or every reservation and conversation of an e-mail."""
    if (reservation_id is None) == (email is None):
        raise ErasureError("give exactly one of a reservation id or an e-mail address")
    now = now or datetime.now(UTC)
    res, conv = schema.reservations, schema.conversations
    with engine.begin() as conn:
        _erasure_lock(conn, account_id, exclusive=True)
        rules: list[tuple[str, str]] = []
        if reservation_id is not None:
            reservation_ids = {reservation_id}
        else:
            assert email is not None
            if "@" not in email:
                raise ErasureError("that does not look like an e-mail address")
            rules.append(("email", email_key(email)))
            reservation_ids = _ids_with_email(conn, res, account_id, email)
        conversation_ids = set(conn.scalars(sa.select(conv.c.id).where(
            conv.c.account_id == account_id, conv.c.reservation_id.in_(reservation_ids))))  # fmt: skip
        if email is not None:
            conversation_ids |= _ids_with_email(conn, conv, account_id, email)
        rules += [("reservation", str(i)) for i in reservation_ids]
        rules += [("conversation", str(i)) for i in conversation_ids]
        _record(conn, account_id, rules, now)
        rule_set = _rules(conn, account_id)
        changed = 0
        for name in ERASABLE:
            changed += _redact_table(conn, schema.table(name), account_id, rule_set)
        changed += _redact_pending_events(conn, account_id, rule_set)
    return ErasureReport(account_id, tuple(sorted(reservation_ids)),
                         tuple(sorted(conversation_ids)), changed)  # fmt: skip


def _ids_with_email(conn: sa.Connection, table: sa.Table, account_id: int, email: str) -> set[int]:
    wanted = email_key(email)
    query = sa.select(table.c.id, table.c.payload).where(table.c.account_id == account_id)
    found = {
        r.id for r in conn.execute(query) if _key("email", r.payload.get("guestEmail")) == wanted
    }
    if table is schema.reservations:  # bookings embedded in calendar days name theirs too
        days = schema.table("listing_calendar")
        for (payload,) in conn.execute(
            sa.select(days.c.payload).where(days.c.account_id == account_id)
        ):
            bookings = payload.get("reservations") if isinstance(payload, Mapping) else None
            for b in bookings if isinstance(bookings, list) else []:
                if isinstance(b, Mapping) and _key("email", b.get("guestEmail")) == wanted:
                    rid = _key("reservation", b.get("id"))
                    if rid is not None:
                        found.add(int(rid))
    return found


def redact_matching(
    conn: sa.Connection, table_name: str, account_id: int, rules: set[tuple[str, str]]
) -> int:
    """Redact the account's rows of an erasable table that match `rules` (retention uses it for
    the rows that name a guest whose reservation or conversation it purges)."""
    return _redact_table(conn, schema.table(table_name), account_id, rules)


def _record(
    conn: sa.Connection, account_id: int, rules: Iterable[tuple[str, str]], now: datetime
) -> None:
    rows = [{"account_id": account_id, "kind": k, "key": v, "erased_at": now} for k, v in rules]
    if rows:
        stmt = dialect_insert(conn, schema.erasures)
        conn.execute(stmt.on_conflict_do_nothing(), rows)


def _fixes(table_name: str, column: str) -> bool:
    spec = ERASABLE[table_name]
    return spec.parent_key_column == column


# The table whose rows an event's `data` is, by the event's object.
EVENT_TABLES = ENTITY_OF


def _redact_pending_events(
    conn: sa.Connection, account_id: int, rules: set[tuple[str, str]]
) -> int:
    """Redact the raw envelopes of the account's not yet applied webhook events that name an
    erased guest (applied events keep no envelope); the apply then writes the redacted row."""
    from hostaway_pipeline.warehouse.schema import webhook_events as t

    query = sa.select(t.c.event_key, t.c.object, t.c.envelope).where(
        t.c.account_id == account_id, t.c.envelope.is_not(None)
    )
    changed = 0
    for row in conn.execute(query).all():
        table = EVENT_TABLES.get(row.object)
        data = row.envelope.get("data") if isinstance(row.envelope, Mapping) else None
        if table is None or not isinstance(data, Mapping):
            continue
        fixed = {"conversation_id": data.get("conversationId")} if table == "messages" else {}
        if not _matches(table, data, rules, fixed):
            continue
        new = {**row.envelope, "data": redacted(table, data)}
        conn.execute(sa.update(t).where(t.c.event_key == row.event_key).values(envelope=new))
        changed += 1
    return changed


def _redact_table(
    conn: sa.Connection, table: sa.Table, account_id: int, rules: set[tuple[str, str]]
) -> int:
    """Redact the table's rows matching `rules`; returns how many changed."""
    from hostaway_pipeline.warehouse.writes import payload_hash

    # A fixed column is a rule only where the writer fixes it (the parent of child rows).
    fixed_cols = [c for c in FIXED_KINDS if c in table.c and _fixes(table.name, c)]
    query = sa.select(table.c.id, table.c.payload, *(table.c[c] for c in fixed_cols)).where(
        table.c.account_id == account_id
    )
    changed = 0
    for row in conn.execute(query).all():
        fixed = {c: getattr(row, c) for c in fixed_cols}
        if not _matches(table.name, row.payload, rules, fixed):
            continue
        new = redacted(table.name, row.payload)
        if new == row.payload:
            continue
        conn.execute(
            sa.update(table)
            .where(table.c.account_id == account_id, table.c.id == row.id)
            .values(payload=new, payload_hash=payload_hash(new))
        )
        changed += 1
    return changed
