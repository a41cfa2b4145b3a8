"""What every sync strategy shares: the engine's state, paging, writing a page, saving sync state.

Split by concept: `flat.py` (top-level lists), `children.py` (children of any parent), `engine.py`
(the public SyncEngine that dispatches a spec to one of them, and its error handling).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.catalog import Pagination, StreamSpec
from hostaway_pipeline.client import HostawayClient, Page
from hostaway_pipeline.client.errors import MalformedResponseError
from hostaway_pipeline.privacy.erasure import redact_erased
from hostaway_pipeline.sync.convert import cursor_value, typed_row
from hostaway_pipeline.sync.report import SyncReport, TableCounts
from hostaway_pipeline.sync.reverify import DEFAULT_REREAD_MAX_REQUESTS
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.state import SyncState, save_state
from hostaway_pipeline.warehouse.writes import RowId, upsert_rows

Record = dict[str, Any]


class SyncMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


# How often a full sync re-verifies the children of an unmoved parent (HOSTAWAY_MESSAGE_REVERIFY_DAYS).
DEFAULT_REVERIFY_EVERY = timedelta(days=7)


def utcnow() -> datetime:
    return datetime.now(UTC)


class SyncCore:
    """The state and page-level operations every sync strategy uses."""

    window_days: tuple[int, int] = (30, 365)

    def __init__(
        self,
        client: HostawayClient,
        engine: sa.Engine,
        account_id: int,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], datetime] = utcnow,
        reverify_every: timedelta = DEFAULT_REVERIFY_EVERY,
        window_days: tuple[int, int] | None = None,
        reread_max_requests: int = DEFAULT_REREAD_MAX_REQUESTS,
        reconcile: bool = False,
    ) -> None:
        self.client = client
        self.engine = engine
        self.account_id = account_id
        self.log = logger or logging.getLogger("hostaway_pipeline.sync")
        self.clock = clock
        self.reverify_every = reverify_every
        # Full syncs re-read every child of entities this cheap (sync/reverify.py); a reconcile
        # re-reads every child of every entity.
        self.reread_max_requests = reread_max_requests
        self.reconcile = reconcile
        if window_days is not None:  # days back, days ahead of date-windowed children
            self.window_days = window_days
        self._state: SyncState | None = None
        self._request_id: str | None = None  # of the page being written, for error messages

    def _pages(
        self, spec: StreamSpec, params: dict[str, Any], path: str | None = None
    ) -> Iterator[Page]:
        """The pages of `spec`'s endpoint (`path`: a child's, with its parent id filled in)."""
        path = path or spec.path
        if spec.pagination is Pagination.NONE:
            page = self.client.fetch(path, params, spec.shape.value, require_id=not spec.text_id)
            return iter([page])
        return self.client.pages(path, params, pagination=spec.pagination)

    def _write(
        self,
        conn: sa.Connection,
        spec: StreamSpec,
        records: list[Record],
        counts: TableCounts,
        seen: set[RowId],
        fixed: dict[str, object] | None = None,
    ) -> datetime | None:
        rows = []
        newest: datetime | None = None
        if spec.redact:
            records = [redact_secrets(r, spec.redact) for r in records]
        records, erased = redact_erased(conn, spec.table, self.account_id, records, fixed)
        counts.erased += len(erased)
        for record in records:
            typed, bad = typed_row(record, spec.fields)
            typed.update(fixed or {})
            rid = self._row_id(spec, record, typed)
            if rid in seen:
                counts.duplicates += 1
            seen.add(rid)
            if bad:
                counts.untyped_fields += len(bad)
                self.log.warning("account %s %s id=%s: fields %s kept only in the payload "
                                 "(unexpected type or format)", self.account_id, spec.name, rid,
                                 ", ".join(bad))  # fmt: skip
            if spec.cursor_field:
                newest = _max(newest, cursor_value(record, spec.cursor_field))
            rows.append({"id": rid, "payload": record, **typed})
        counts.fetched += len(records)
        if rows:
            batch = upsert_rows(conn, schema.table(spec.table), self.account_id, rows)
            counts.inserted += batch.inserted
            counts.updated += batch.updated
            counts.unchanged += batch.unchanged
            counts.restored += batch.restored
            if batch.sanitized:
                counts.sanitized += len(batch.sanitized)
                self.log.warning("account %s %s ids %s: payloads hold values the warehouse "
                                 "cannot store as they are (NUL, unpaired surrogates, NaN, "
                                 "Infinity, numbers beyond a float); stored marked and exactly "
                                 "recoverable (hostaway_pipeline.client.payloads)", self.account_id,
                                 spec.name, ", ".join(map(str, batch.sanitized)))  # fmt: skip
        return newest

    def _row_id(self, spec: StreamSpec, record: Record, typed: dict[str, Any]) -> RowId:
        """The API's integer id, or the text of the spec's key columns ("12|2026-01-31")."""
        if not spec.text_id:
            return record["id"]  # validated an integer by the client
        parts = [typed.get(column) for column in spec.key]
        if any(p is None for p in parts):
            raise MalformedResponseError(
                f"account {self.account_id}: a {spec.name} record lacks a usable value for its "
                f"key {spec.key} (last request id {self._request_id or '(none)'}); nothing of "
                "that answer was stored: report it with the request id",
                account_id=self.account_id, endpoint=spec.path, request_id=self._request_id,
            )  # fmt: skip
        return "|".join(p.isoformat() if isinstance(p, date) else str(p) for p in parts)

    def _finish(
        self, spec: StreamSpec, mode: SyncMode, report: SyncReport, mark: datetime | None
    ) -> None:
        finished = self.clock()
        with self.engine.begin() as conn:
            save_state(conn, SyncState(
                account_id=self.account_id,
                stream=spec.name,
                watermark=_advance(report.watermark_before, mark, report.started_at),
                last_mode=mode.value,
                last_started_at=report.started_at,
                last_finished_at=finished,
                last_full_sync_at=report.started_at if mode is SyncMode.FULL else (
                    self._state.last_full_sync_at if self._state else None
                ),
            ))  # fmt: skip


def redact_secrets(record: Record, fields: tuple[str, ...]) -> Record:
    """The record with the named top-level fields replaced (secrets are never stored)."""
    return {k: ("[redacted]" if k in fields and v is not None else v) for k, v in record.items()}


def _advance(old: datetime | None, seen: datetime | None, started: datetime) -> datetime | None:
    """New watermark: the newest cursor seen, never past the run's start, never backwards."""
    if seen is None:
        return old
    capped = min(seen, started)
    return capped if old is None else max(old, capped)


def _older(record: Record, field: str, since: datetime) -> bool:
    value = cursor_value(record, field)
    return value is not None and value < since  # an unreadable cursor never stops paging


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _max_of(values: Iterator[datetime | None]) -> datetime | None:
    result: datetime | None = None
    for value in values:
        result = _max(result, value)
    return result


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite returns naive datetimes; they are stored as UTC
    return value
