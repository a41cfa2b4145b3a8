"""Top-level lists (listings, reservations): offset or afterId paging, server-side filters,
newest-first early stop, and soft-deletes verified by a second pass."""

from __future__ import annotations

from datetime import datetime, timedelta

from hostaway_pipeline.catalog import Incremental, Pagination, StreamSpec
from hostaway_pipeline.sync.core import SyncCore, SyncMode, _max, _older
from hostaway_pipeline.sync.report import SyncReport, TableCounts
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import RowId, live_ids, soft_delete_missing


class FlatSync(SyncCore):
    """Syncs a stream without a parent."""

    def _sync_flat(
        self, spec: StreamSpec, mode: SyncMode, lookback: timedelta, report: SyncReport
    ) -> datetime | None:
        counts = report.table(spec.table)
        seen: set[RowId] = set()
        since = None
        if mode is SyncMode.INCREMENTAL and report.watermark_before is not None:
            since = report.watermark_before - lookback
        complete, mark = self._list(spec, since, counts, seen)
        counts.listing_complete = complete
        # One unpaged answer is a whole listing in any mode, and so is a list read without a
        # server-side filter (custom fields, tasks); filtered paged ones only in a full sync.
        whole = (
            mode is SyncMode.FULL
            or spec.pagination is Pagination.NONE
            or spec.incremental is Incremental.FULL_LISTING
        )
        if whole and complete and spec.soft_delete:
            self._soft_delete(spec, counts, seen, report.started_at - lookback)
        self._finish(spec, mode, report, mark)
        return mark

    def _list(
        self, spec: StreamSpec, since: datetime | None, counts: TableCounts, seen: set[RowId]
    ) -> tuple[bool, datetime | None]:
        """Page through a stream, writing page by page; (listing complete, newest cursor seen)."""
        params = dict(spec.params)
        if since is not None and spec.incremental is Incremental.LATEST_ACTIVITY:
            params["latestActivityStart"] = since.date().isoformat()
        newest: datetime | None = None
        for page in self._pages(spec, params):
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
        self, spec: StreamSpec, counts: TableCounts, seen: set[RowId], changed_since: datetime
    ) -> None:
        with self.engine.connect() as conn:
            missing = live_ids(conn, schema.table(spec.table), self.account_id) - seen
        if not missing:
            return
        if spec.pagination is Pagination.NONE:  # one answer: no page shifted under us
            with self.engine.begin() as conn:
                counts.soft_deleted += soft_delete_missing(
                    conn, schema.table(spec.table), self.account_id, seen
                )
            return
        # Verify before deleting: rows that changed while we paged may have moved past our cursor.
        since = changed_since if spec.pagination is Pagination.KEYSET else None
        self._list(spec, since, counts, seen)
        with self.engine.begin() as conn:
            counts.soft_deleted += soft_delete_missing(
                conn, schema.table(spec.table), self.account_id, seen
            )
