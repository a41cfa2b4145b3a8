"""Children of a parent that has its own asset (calendar days and fees of listings, finance fields
of reservations): the parents are read from the warehouse, never listed again.

Which parents are asked (one request each):
- `FULL_LISTING` (the calendar): every live parent, each time the entity is due;
- `CHANGED_PARENTS`: parents whose warehouse row changed (insert, update, restore) after their
  children were last fetched (`child_verifications`), plus parents never fetched; a full sync adds
  every other parent when that costs at most `reread_max_requests`, else its rolling
  re-verification slice (sync/reverify.py), so an edit that left the parent unchanged is seen by
  the next full sync, or within `reverify_every`.
Each parent's children are written, soft-deleted within that parent (unless the spec keeps
history) and marked verified in one transaction. A full sync soft-deletes the children of parents
that are gone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.catalog import Incremental, StreamSpec
from hostaway_pipeline.client.errors import RequestError
from hostaway_pipeline.sync.core import Record, SyncCore, SyncMode, _aware
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.sync.reverify import full_sync_due, rereads_whole
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.verifications import load_verified, mark_verified
from hostaway_pipeline.warehouse.writes import RowId, soft_delete_missing


class StoredChildSync(SyncCore):
    """Syncs a child stream whose parents are already in the warehouse."""

    def _sync_stored_children(
        self, spec: StreamSpec, mode: SyncMode, lookback: timedelta, report: SyncReport
    ) -> None:
        assert spec.parent is not None and spec.parent_key_column is not None
        ptable = schema.table(spec.parent.table)
        with self.engine.connect() as conn:
            live = {
                row.id: _aware(row.synced_at)
                for row in conn.execute(
                    sa.select(ptable.c.id, ptable.c.synced_at).where(
                        ptable.c.account_id == self.account_id, ptable.c.deleted_at.is_(None)
                    )
                )
            }
            verified = load_verified(conn, self.account_id, spec.name)
        todo = self._parents_to_ask(spec, mode, live, verified, report)
        report.parents_scanned = len(live)
        report.parents_changed = len(todo)
        report.parents_skipped = len(live) - len(todo)
        params = {**dict(spec.params), **self._window(spec)}
        workers = max(1, self.client.config.max_concurrency)
        ordered = sorted(todo)
        # The first parent alone: an endpoint refused to the account is then refused once, with
        # one token refresh, instead of once per worker, each refreshing the token it was given.
        for pid in ordered[:1]:
            self._store(spec, pid, self._ask(spec, pid, params), report)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hostaway") as pool:
            futures = [(pid, pool.submit(self._ask, spec, pid, params)) for pid in ordered[1:]]
            try:
                for pid, future in futures:
                    self._store(spec, pid, future.result(), report)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # spend no more of the budget
                raise
        report.table(spec.table).listing_complete = True
        if mode is SyncMode.FULL:
            self._orphans_gone(spec, set(live), report)
        self._finish(spec, mode, report, None)

    def _parents_to_ask(
        self,
        spec: StreamSpec,
        mode: SyncMode,
        live: dict[RowId, datetime | None],
        verified: dict[int, datetime],
        report: SyncReport,
    ) -> set[RowId]:
        if spec.incremental is Incremental.FULL_LISTING:
            return set(live)
        # A parent's children are asked again when its row changed after they were last fetched
        # (both times are ours: `synced_at` by the writer, `verified_at` by the run's start).
        todo = {
            pid for pid, synced in live.items()
            if pid not in verified or (synced is not None and synced > verified[pid])
        }  # fmt: skip
        if mode is SyncMode.FULL:
            ids = {pid for pid in live if isinstance(pid, int)}
            whole = rereads_whole(len(live), self.reread_max_requests, self.reconcile)
            due = full_sync_due(verified, ids, report.started_at, self.reverify_every, whole)
            due -= todo
            report.reverify_slice = len(due)
            report.parents_reverified = len(due)
            todo |= due
        return todo

    def _window(self, spec: StreamSpec) -> dict[str, str]:
        if spec.window is None:
            return {}
        today = self.clock().date()
        back, ahead = self.window_days
        return {
            spec.window.start_param: (today - timedelta(days=back)).isoformat(),
            spec.window.end_param: (today + timedelta(days=ahead)).isoformat(),
        }

    def _ask(
        self, spec: StreamSpec, parent_id: RowId, params: dict[str, Any]
    ) -> list[Record] | None:
        path = spec.path.format(parent_id=parent_id)
        try:
            return [r for page in self._pages(spec, dict(params), path) for r in page.records]
        except RequestError as exc:
            if exc.status == 404:  # the parent vanished since it was stored
                return None
            raise

    def _store(
        self, spec: StreamSpec, parent_id: RowId, children: list[Record] | None, report: SyncReport
    ) -> None:
        assert spec.parent is not None and spec.parent_key_column is not None
        counts = report.table(spec.table)
        if children is None:
            self.log.info("account %s: %s %s answered 404 (gone since it was stored)",
                          self.account_id, spec.parent.name, parent_id)  # fmt: skip
            return
        seen: set[RowId] = set()
        with self.engine.begin() as conn:
            self._write(conn, spec, children, counts, seen, {spec.parent_key_column: parent_id})
            if spec.soft_delete:
                counts.soft_deleted += soft_delete_missing(
                    conn, schema.table(spec.table), self.account_id, seen,
                    scope={spec.parent_key_column: parent_id},
                )  # fmt: skip
            if isinstance(parent_id, int):
                mark_verified(conn, self.account_id, spec.name, [parent_id], report.started_at)

    def _orphans_gone(self, spec: StreamSpec, live: set[RowId], report: SyncReport) -> None:
        """Soft-delete the children of parents that are no longer live."""
        assert spec.parent_key_column is not None
        table = schema.table(spec.table)
        column = table.c[spec.parent_key_column]
        with self.engine.begin() as conn:
            parents = set(
                conn.scalars(
                    sa.select(column)
                    .where(table.c.account_id == self.account_id, table.c.deleted_at.is_(None))
                    .distinct()
                )
            )
            for pid in sorted(p for p in parents - live if p is not None):
                report.table(spec.table).soft_deleted += soft_delete_missing(
                    conn, table, self.account_id, set(), scope={spec.parent_key_column: pid}
                )
