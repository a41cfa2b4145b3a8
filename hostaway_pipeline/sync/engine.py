"""The generic sync engine: runs any stream spec, full or incremental, and returns a plain report.

Guarantees, whatever happens mid-run (exception, SIGKILL):
- every page is written in its own transaction, so no half-written batch is ever visible;
- the watermark advances only in the final transaction, after every write of the run, and never past
  the run's start: a failed run is simply done again, and upserts make the redo idempotent;
- rows are soft-deleted only after a complete listing, and only if a verification pass still
  misses them (pages shift while rows change, so a single pass can skip a live row).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.client.errors import HostawayError
from hostaway_pipeline.sync.availability import (
    EntityUnavailableError,
    may_be_unavailable,
    prove_token,
    refusal,
)
from hostaway_pipeline.sync.children import ChildSync, recent_parents_since
from hostaway_pipeline.sync.core import Record, SyncMode, _advance, utcnow
from hostaway_pipeline.sync.flat import FlatSync
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.sync.stats import api_delta, snapshot
from hostaway_pipeline.sync.stored_children import StoredChildSync
from hostaway_pipeline.warehouse.availability import mark_available, mark_unavailable, unavailable
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
from hostaway_pipeline.warehouse.state import load_state

__all__ = [
    "EntityUnavailableError", "Record", "SyncEngine", "SyncMode", "is_due", "recent_parents_since",
    "utcnow",
]  # fmt: skip


def is_due(
    engine: sa.Engine, account_id: int, spec: StreamSpec, mode: SyncMode, now: datetime
) -> bool:
    """Whether `spec` is synced in a run of `mode`: a full run syncs everything; an incremental
    one only entities whose cadence has elapsed since their last sync (`Cadence.due`: a few minutes early, so a daily
    entity is not pushed back a tick every day by the run's own duration)."""
    if mode is SyncMode.FULL or spec.cadence.every == timedelta(0):
        return True
    with engine.connect() as conn:
        state = load_state(conn, account_id, spec.name)
    return spec.cadence.due(state.last_finished_at if state else None, now)


class SyncEngine(FlatSync, ChildSync, StoredChildSync):
    """Syncs one account's streams from a Hostaway client into the warehouse."""

    def due(self, spec: StreamSpec, mode: SyncMode) -> bool:
        """Whether `spec` is synced in a run of `mode` (see `is_due`)."""
        return is_due(self.engine, self.account_id, spec, mode, self.clock())

    def run(self, spec: StreamSpec, mode: SyncMode, lookback: timedelta) -> SyncReport:
        """Sync one stream (children streams also sync their parent) and report what it did.

        Raises the client's HostawayError for API failures (EntityUnavailableError, recorded in
        the warehouse, when Hostaway refuses only this entity to the account: see
        sync/availability.py) and WarehouseError (retryable WarehouseUnavailableError when the
        connection broke) for database ones. An entity known to be refused is asked again
        without a token refresh, after a core request proved the token good.
        """
        self._request_id = None
        try:
            known = may_be_unavailable(spec) and spec.name in self.unavailable()
            if known:
                prove_token(self.client)
            try:
                with self.client.without_token_refresh() if known else contextlib.nullcontext():
                    report = self._run(spec, mode, lookback)
            except HostawayError as exc:
                refused = refusal(self.client, spec, exc)
                if refused is None:
                    raise
                mark_unavailable(self.engine, self.account_id, spec.name, str(refused),
                                 refused.status, refused.request_id, self.clock())  # fmt: skip
                raise refused from None
            if known:
                mark_available(self.engine, self.account_id, spec.name)
            return report
        except (sa.exc.StatementError, sa.exc.TimeoutError) as exc:  # DBAPIError included
            raise self._warehouse_error(spec, exc) from None

    def unavailable(self) -> set[str]:
        """The entities Hostaway refuses to this account (skipped until a full sync)."""
        return set(unavailable(self.engine, self.account_id).get(self.account_id, {}))

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
        elif spec.stored_parent:
            self._sync_stored_children(spec, mode, lookback, report)
            new_mark = None
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
