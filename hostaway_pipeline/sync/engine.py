"""The generic sync engine: runs any stream spec, full or incremental, and returns a plain report.

Guarantees, whatever happens mid-run (exception, SIGKILL):
- every page is written in its own transaction, so no half-written batch is ever visible;
- the watermark advances only in the final transaction, after every write of the run, and never past
  the run's start: a failed run is simply done again, and upserts make the redo idempotent;
- rows are soft-deleted only after a complete listing, and only if a verification pass still
  misses them (pages shift while rows change, so a single pass can skip a live row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.client import HostawayClient, Page
from hostaway_pipeline.client.errors import RequestError
from hostaway_pipeline.streams import Incremental, Pagination, StreamSpec
from hostaway_pipeline.sync.convert import cursor_value, typed_row
from hostaway_pipeline.sync.report import SyncReport, TableCounts
from hostaway_pipeline.sync.stats import api_delta, snapshot
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.erasure import redact_erased
from hostaway_pipeline.warehouse.errors import (
    WarehouseBusyError,
    WarehouseError,
    WarehouseUnavailableError,
    busy_message,
    connection_lost,
    reason,
    refused,
    sqlite_busy,
)
from hostaway_pipeline.warehouse.state import SyncState, load_state, save_state
from hostaway_pipeline.warehouse.writes import live_ids, soft_delete_missing, upsert_rows

Record = dict[str, Any]


class SyncMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


def utcnow() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    """Syncs one account's streams from a Hostaway client into the warehouse."""

    def __init__(
        self,
        client: HostawayClient,
        engine: sa.Engine,
        account_id: int,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.client = client
        self.engine = engine
        self.account_id = account_id
        self.log = logger or logging.getLogger("hostaway_pipeline.sync")
        self.clock = clock
        self._state: SyncState | None = None
        self._request_id: str | None = None  # of the page being written, for error messages

    def run(self, spec: StreamSpec, mode: SyncMode, lookback: timedelta) -> SyncReport:
        """Sync one stream (children streams also sync their parent) and report what it did.

        Raises the client's HostawayError for API failures and WarehouseError (retryable
        WarehouseUnavailableError when the connection broke) for database ones.
        """
        self._request_id = None
        try:
            return self._run(spec, mode, lookback)
        except (sa.exc.StatementError, sa.exc.TimeoutError) as exc:  # DBAPIError included
            raise self._warehouse_error(spec, exc) from None

    def _run(self, spec: StreamSpec, mode: SyncMode, lookback: timedelta) -> SyncReport:
        started = self.clock()
        before = snapshot(self.client.stats)
        with self.engine.connect() as conn:
            self._state = load_state(conn, self.account_id, spec.name)
        state = self._state
        report = SyncReport(
            account_id=self.account_id,
            stream=spec.name,
            mode=mode.value,
            started_at=started,
            watermark_before=state.watermark if state else None,
        )
        if spec.parent is None:
            new_mark = self._sync_flat(spec, mode, lookback, report)
        else:
            new_mark = self._sync_children(spec, mode, lookback, report)
        report.watermark_after = _advance(report.watermark_before, new_mark, started)
        report.finished_at = self.clock()
        report.api = api_delta(before, self.client.stats)
        self.log.info(
            "account %s %s %s sync done: %s requests, %.1f s",
            self.account_id, spec.name, mode.value, report.api.requests, report.duration_s,
        )  # fmt: skip
        return report

    def _warehouse_error(self, spec: StreamSpec, exc: Exception) -> WarehouseError:
        """A typed error for a database failure mid-run (never the statement's data)."""
        where = f"account {self.account_id} {spec.name}"
        page = f" (last API request id {self._request_id})" if self._request_id else ""
        if sqlite_busy(exc):
            cls: type[WarehouseError] = WarehouseBusyError
            message = busy_message(self.engine.url, where) + f"{page}; run the sync again"
        elif connection_lost(exc):
            cls = WarehouseUnavailableError
            message = (
                f"{where}: the warehouse connection failed ({reason(exc)}){page}; every page "
                "stored so far is whole and the watermark did not move: run the sync again"
            )
        else:
            cls = WarehouseError
            message = (
                f"{where}: the warehouse refused a write ({refused(exc)}){page}; nothing of that "
                "page was stored and the watermark did not move: report it with the request id"
            )
        return cls(
            message, account_id=self.account_id, stream=spec.name, request_id=self._request_id
        )

    # -- top-level streams -------------------------------------------------------------------

    def _sync_flat(
        self, spec: StreamSpec, mode: SyncMode, lookback: timedelta, report: SyncReport
    ) -> datetime | None:
        counts = report.table(spec.table)
        seen: set[int] = set()
        since = None
        if mode is SyncMode.INCREMENTAL and report.watermark_before is not None:
            since = report.watermark_before - lookback
        complete, mark = self._list(spec, since, counts, seen)
        counts.listing_complete = complete
        if mode is SyncMode.FULL and complete:
            self._soft_delete(spec, counts, seen, report.started_at - lookback)
        self._finish(spec, mode, report, mark)
        return mark

    def _list(
        self, spec: StreamSpec, since: datetime | None, counts: TableCounts, seen: set[int]
    ) -> tuple[bool, datetime | None]:
        """Page through a stream, writing page by page; (listing complete, newest cursor seen)."""
        params = dict(spec.params)
        if since is not None and spec.incremental is Incremental.LATEST_ACTIVITY:
            params["latestActivityStart"] = since.date().isoformat()
        newest: datetime | None = None
        for page in self._pages(spec.path, spec.pagination, params):
            self._request_id = page.request_id
            counts.api_count = page.count
            records = page.records
            stop = False
            if since is not None and spec.incremental is Incremental.NEWEST_FIRST:
                assert spec.cursor_field is not None
                fresh = [r for r in records if not _older(r, spec.cursor_field, since)]
                counts.skipped += len(records) - len(fresh)
                counts.fetched += len(records) - len(fresh)  # fetched, but not written
                stop, records = len(fresh) < len(records), fresh
            with self.engine.begin() as conn:
                newest = _max(newest, self._write(conn, spec, records, counts, seen))
            if stop:
                return False, newest
        # A page shift can hide a row; a listing is only complete if it saw the API's total.
        return counts.api_count is None or len(seen) >= counts.api_count, newest

    def _soft_delete(
        self, spec: StreamSpec, counts: TableCounts, seen: set[int], changed_since: datetime
    ) -> None:
        with self.engine.connect() as conn:
            missing = live_ids(conn, schema.table(spec.table), self.account_id) - seen
        if not missing:
            return
        # Verify before deleting: rows that changed while we paged may have moved past our cursor.
        since = changed_since if spec.pagination is Pagination.KEYSET else None
        self._list(spec, since, counts, seen)
        with self.engine.begin() as conn:
            counts.soft_deleted += soft_delete_missing(
                conn, schema.table(spec.table), self.account_id, seen
            )

    # -- child streams (messages of conversations) ------------------------------------------

    def _sync_children(
        self, spec: StreamSpec, mode: SyncMode, lookback: timedelta, report: SyncReport
    ) -> datetime | None:
        parent = spec.parent
        assert parent is not None and spec.parent_key_column is not None
        pcounts, ccounts = report.table(parent.table), report.table(spec.table)
        seen_parents: set[int] = set()
        newest: datetime | None = None
        workers = max(1, self.client.config.max_concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hostaway") as pool:
            try:
                for page in self._pages(parent.path, parent.pagination, dict(parent.params)):
                    self._request_id = page.request_id
                    pcounts.api_count = page.count
                    changed = self._changed_parents(spec, page.records, mode, lookback)
                    report.parents_scanned += len(page.records)
                    report.parents_changed += len(changed)
                    steady = [r for r in page.records if r["id"] not in changed]
                    with self.engine.begin() as conn:
                        self._write(conn, parent, steady, pcounts, seen_parents)
                    futures = [
                        (r, pool.submit(self._fetch_children, spec, r["id"]))
                        for r in changed.values()
                    ]
                    for record, future in futures:
                        mark = self._store_children(spec, record, future, mode, report)
                        newest = _max(newest, mark)
                        seen_parents.add(record["id"])
            except BaseException:
                # The run has failed: drop the fetches still queued rather than spend the rate
                # budget (and maybe rejected credentials) on results nobody will store.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        complete = pcounts.api_count is None or len(seen_parents) >= pcounts.api_count
        pcounts.listing_complete = complete
        if mode is SyncMode.FULL and complete:
            self._soft_delete_parents(spec, pcounts, ccounts, seen_parents)
        self._finish(spec, mode, report, newest)
        return newest

    def _changed_parents(
        self, spec: StreamSpec, records: list[Record], mode: SyncMode, lookback: timedelta
    ) -> dict[int, Record]:
        assert spec.parent is not None
        by_id = {r["id"]: r for r in records}
        since = recent_parents_since(self._state.last_started_at if self._state else None, lookback)
        if mode is SyncMode.FULL or since is None:
            return by_id
        columns = [f for f in spec.parent.fields if f.source in spec.parent_change_fields]
        table = schema.table(spec.parent.table)
        with self.engine.connect() as conn:
            stored = {
                row.id: row
                for row in conn.execute(
                    sa.select(
                        table.c.id, table.c.deleted_at, *[table.c[f.column] for f in columns]
                    ).where(table.c.account_id == self.account_id, table.c.id.in_(list(by_id)))
                )
            }
        changed = {}
        for pid, record in by_id.items():
            row = stored.get(pid)
            marks = [cursor_value(record, f) for f in spec.parent_change_fields]
            moved = (
                row is None
                or row.deleted_at is not None
                or any(
                    cursor_value(record, f.source) != _aware(getattr(row, f.column))
                    for f in columns
                )
                # Unmoved but recent: a child stamped in the same second may have come after we
                # read the parent last time, leaving its change fields as they were.
                or any(m is not None and m >= since for m in marks)
            )
            if moved:
                changed[pid] = record
        return changed

    def _fetch_children(self, spec: StreamSpec, parent_id: int) -> list[Record] | None:
        path = spec.path.format(parent_id=parent_id)
        try:
            return [
                r
                for page in self._pages(path, spec.pagination, dict(spec.params))
                for r in page.records
            ]
        except RequestError as exc:
            if exc.status == 404:  # the parent vanished between listing and fetching
                return None
            raise

    def _store_children(
        self,
        spec: StreamSpec,
        parent: Record,
        future: Future[list[Record] | None],
        mode: SyncMode,
        report: SyncReport,
    ) -> datetime | None:
        assert spec.parent is not None and spec.parent_key_column is not None
        children = future.result()
        pcounts, ccounts = report.table(spec.parent.table), report.table(spec.table)
        if children is None:
            self.log.warning("account %s: %s %s vanished while syncing", self.account_id,
                             spec.parent.name, parent["id"])  # fmt: skip
            return None
        seen: set[int] = set()
        # Children and their parent commit together: the parent's change fields act as the
        # children's watermark, so they must never be ahead of the children they describe.
        with self.engine.begin() as conn:
            # The endpoint we fetched from names the parent, whatever the bodies say.
            self._write(conn, spec, children, ccounts, seen, {spec.parent_key_column: parent["id"]})
            if mode is SyncMode.FULL:
                ccounts.soft_deleted += soft_delete_missing(
                    conn, schema.table(spec.table), self.account_id, seen,
                    scope={spec.parent_key_column: parent["id"]},
                )  # fmt: skip
            self._write(conn, spec.parent, [parent], pcounts, set())
        return _max_of(cursor_value(parent, f) for f in spec.parent_change_fields)

    def _soft_delete_parents(
        self, spec: StreamSpec, pcounts: TableCounts, ccounts: TableCounts, seen: set[int]
    ) -> None:
        assert spec.parent is not None and spec.parent_key_column is not None
        ptable, ctable = schema.table(spec.parent.table), schema.table(spec.table)
        with self.engine.connect() as conn:
            missing = live_ids(conn, ptable, self.account_id) - seen
        if not missing:
            return
        recheck: set[int] = set()  # verification pass over the (cheap) parent listing
        for page in self._pages(spec.parent.path, spec.parent.pagination, dict(spec.parent.params)):
            recheck.update(r["id"] for r in page.records)
        gone = missing - recheck
        with self.engine.begin() as conn:
            pcounts.soft_deleted += soft_delete_missing(
                conn, ptable, self.account_id, seen | recheck
            )
            for pid in gone:
                ccounts.soft_deleted += soft_delete_missing(
                    conn, ctable, self.account_id, set(), scope={spec.parent_key_column: pid}
                )

    # -- shared ---------------------------------------------------------------------------

    def _pages(self, path: str, pagination: Pagination, params: dict[str, Any]) -> Iterator[Page]:
        if pagination is Pagination.KEYSET:
            return self.client.paginate_keyset(path, params)
        return self.client.paginate_offset(path, params)

    def _write(
        self,
        conn: sa.Connection,
        spec: StreamSpec,
        records: list[Record],
        counts: TableCounts,
        seen: set[int],
        fixed: dict[str, object] | None = None,
    ) -> datetime | None:
        rows = []
        newest: datetime | None = None
        records, erased = redact_erased(conn, spec.table, self.account_id, records, fixed)
        counts.erased += len(erased)
        for record in records:
            rid = record["id"]
            if rid in seen:
                counts.duplicates += 1
            seen.add(rid)
            typed, bad = typed_row(record, spec.fields)
            if bad:
                counts.untyped_fields += len(bad)
                self.log.warning("account %s %s id=%s: fields %s kept only in the payload "
                                 "(unexpected type or format)", self.account_id, spec.name, rid,
                                 ", ".join(bad))  # fmt: skip
            if spec.cursor_field:
                newest = _max(newest, cursor_value(record, spec.cursor_field))
            rows.append({"id": rid, "payload": record, **typed, **(fixed or {})})
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
                                 "recoverable (hostaway_pipeline.payloads)", self.account_id,
                                 spec.name, ", ".join(map(str, batch.sanitized)))  # fmt: skip
        return newest

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


def recent_parents_since(last_started: datetime | None, lookback: timedelta) -> datetime | None:
    """Parents whose change fields are at or after this instant are refetched even if unmoved.

    Hostaway stamps whole seconds, so a message written in the second we read its conversation
    leaves `messageSentOn`/`messageReceivedOn` unchanged; and its clock may differ from ours by up
    to the lookback. So a parent is only settled once its change fields are older than the last
    completed run's start by the lookback plus one second. None (no completed run yet): refetch all.
    """
    if last_started is None:
        return None
    return last_started - lookback - timedelta(seconds=1)


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
