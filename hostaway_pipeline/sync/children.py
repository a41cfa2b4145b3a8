"""Children of any parent (messages of conversations): the parent listing, the parents that
changed, their children fetched concurrently, and soft-deletes scoped to one parent.

Incremental and full syncs alike refetch only the children of parents that changed (new, restored,
change fields moved or recent); a full sync adds the parents never verified and its rolling
re-verification slice (sync/reverify.py). Children are soft-deleted only within a parent whose
children were refetched whole, or when the parent itself is gone: skipping a parent never deletes.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.client.errors import RequestError
from hostaway_pipeline.sync.convert import cursor_value
from hostaway_pipeline.sync.core import Record, SyncCore, SyncMode, _aware, _max, _max_of
from hostaway_pipeline.sync.covered import covered, delivered_marks
from hostaway_pipeline.sync.report import SyncReport, TableCounts
from hostaway_pipeline.sync.reverify import full_sync_due, rereads_whole
from hostaway_pipeline.warehouse import child_marks as marks
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.verifications import load_verified, mark_verified
from hostaway_pipeline.warehouse.writes import RowId, live_ids, soft_delete_missing


@dataclass(frozen=True)
class _Plan:
    """What a full sync refetches besides moved parents: never-verified ones and the slice."""

    verified: frozenset[int]
    due: frozenset[int]


class ChildSync(SyncCore):
    """Syncs a stream whose path names a parent ("{parent_id}"), and that parent with it."""

    def _sync_children(
        self, spec: StreamSpec, mode: SyncMode, lookback: timedelta, report: SyncReport
    ) -> datetime | None:
        parent = spec.parent
        assert parent is not None and spec.parent_key_column is not None
        pcounts, ccounts = report.table(parent.table), report.table(spec.table)
        seen_parents: set[RowId] = set()
        self._covered_marks: dict[int, marks.Marks] = {}  # this page's parents webhooks covered
        newest: datetime | None = None
        plan = self._plan(spec, report) if mode is SyncMode.FULL else None
        workers = max(1, self.client.config.max_concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hostaway") as pool:
            try:
                for page in self._pages(parent, dict(parent.params)):
                    self._request_id = page.request_id
                    pcounts.api_count = page.count
                    changed = self._changed_parents(spec, page.records, lookback, plan, report)
                    report.parents_scanned += len(page.records)
                    report.parents_changed += len(changed)
                    report.parents_skipped += len(page.records) - len(changed)
                    steady = [r for r in page.records if r["id"] not in changed]
                    with self.engine.begin() as conn:
                        self._write(conn, parent, steady, pcounts, seen_parents)
                        marks.save(conn, self.account_id, spec.name, self._covered_marks)
                    self._covered_marks = {}
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

    def _plan(self, spec: StreamSpec, report: SyncReport) -> _Plan:
        assert spec.parent is not None
        with self.engine.connect() as conn:
            verified = load_verified(conn, self.account_id, spec.name)
            live = live_ids(conn, schema.table(spec.parent.table), self.account_id)
        ids = {pid for pid in live if isinstance(pid, int)}
        whole = rereads_whole(len(live), self.reread_max_requests, self.reconcile)
        due = full_sync_due(verified, ids, report.started_at, self.reverify_every, whole)
        report.reverify_slice = len(due)
        return _Plan(frozenset(verified), frozenset(due))

    def _changed_parents(
        self,
        spec: StreamSpec,
        records: list[Record],
        lookback: timedelta,
        plan: _Plan | None,
        report: SyncReport,
    ) -> dict[int, Record]:
        """The parents of this page whose children are refetched (plan: the full sync's)."""
        assert spec.parent is not None
        by_id = {r["id"]: r for r in records}
        since = recent_parents_since(self._state.last_started_at if self._state else None, lookback)
        if since is None:
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
            delivered = delivered_marks(conn, spec, self.account_id, [
                pid for pid in by_id if isinstance(pid, int)
            ]) if spec.child_marks and stored else set()  # fmt: skip
            # The children's watermark, where it is kept apart from the parent row (webhooks
            # refresh that row from the API): warehouse/child_marks.py.
            kept = marks.load(conn, self.account_id, spec.name, list(stored))
        changed = {}
        for pid, record in by_id.items():
            row = stored.get(pid)

            def was(f: Any, pid: Any = pid, row: Any = row) -> datetime | None:
                if pid in kept:
                    return cursor_value(kept[pid], f.source)
                return _aware(getattr(row, f.column))

            # Change fields that moved since the children were fetched, or are recent: a child
            # stamped in the same second may have come after we read the parent last time.
            pending = {} if row is None else {
                f.source: mark for f in columns
                if (mark := cursor_value(record, f.source)) != was(f)
                or (mark is not None and mark >= since)
            }  # fmt: skip
            moved = row is None or row.deleted_at is not None or bool(pending)
            live = row is not None and row.deleted_at is None
            if moved and live and covered(spec, pid, pending, delivered):  # webhooks brought them
                moved = False
                report.parents_covered += 1
                self._covered_marks[pid] = marks.pick(record, spec.parent_change_fields)
            if plan is not None and not moved:
                moved = pid not in plan.verified
                if not moved and pid in plan.due:
                    moved = True
                    report.parents_reverified += 1
            if moved:
                changed[pid] = record
        return changed

    def _fetch_children(self, spec: StreamSpec, parent_id: int) -> list[Record] | None:
        path = spec.path.format(parent_id=parent_id)
        try:
            return [r for page in self._pages(spec, dict(spec.params), path) for r in page.records]
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
        seen: set[RowId] = set()
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
            marks.save(conn, self.account_id, spec.name,
                       {parent["id"]: marks.pick(parent, spec.parent_change_fields)})  # fmt: skip
            mark_verified(conn, self.account_id, spec.name, [parent["id"]], report.started_at)
        return _max_of(cursor_value(parent, f) for f in spec.parent_change_fields)

    def _soft_delete_parents(
        self, spec: StreamSpec, pcounts: TableCounts, ccounts: TableCounts, seen: set[RowId]
    ) -> None:
        assert spec.parent is not None and spec.parent_key_column is not None
        ptable, ctable = schema.table(spec.parent.table), schema.table(spec.table)
        with self.engine.connect() as conn:
            missing = live_ids(conn, ptable, self.account_id) - seen
        if not missing:
            return
        recheck: set[RowId] = set()  # verification pass over the (cheap) parent listing
        for page in self._pages(spec.parent, dict(spec.parent.params)):
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
