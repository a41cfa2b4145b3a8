"""The plain report a sync returns; the Dagster layer turns it into materialization metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class TableCounts:
    """What one sync did to one warehouse table."""

    table: str
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0
    soft_deleted: int = 0
    skipped: int = 0  # fetched but outside the incremental window (older than the cursor)
    untyped_fields: int = 0  # values kept only in the payload because their column type did not fit
    # payloads holding values the warehouse cannot store as they are, stored marked (client/payloads.py)
    sanitized: int = 0
    erased: int = 0  # records of erased guests, stored redacted (privacy/erasure.py)
    duplicates: int = 0  # records the API returned more than once in this run (pages shifted)
    api_count: int | None = None  # the API's own total for the listing, when it gives one
    listing_complete: bool = False

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.restored


@dataclass
class RequestCounts:
    """What the sync cost against the API (a delta of the client's counters)."""

    requests: int = 0
    retries: int = 0
    http_429: int = 0
    rate_limit_wait_s: float = 0.0
    token_source: str = "none"
    token_requests: int = 0
    token_refreshes: int = 0


@dataclass
class SyncReport:
    account_id: int
    stream: str
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    watermark_before: datetime | None = None
    watermark_after: datetime | None = None
    tables: dict[str, TableCounts] = field(default_factory=dict)
    api: RequestCounts = field(default_factory=RequestCounts)
    parents_scanned: int = 0
    parents_changed: int = 0  # parents whose children were refetched (for any reason)
    parents_skipped: int = 0  # parents listed whose children were not refetched
    reverify_slice: int = 0  # full sync: stored parents due for re-verification (sync/reverify.py)
    parents_covered: int = 0  # moved, but their new children came by webhook (sync/covered.py)
    parents_reverified: int = 0  # refetched only because they were in that slice

    def table(self, name: str) -> TableCounts:
        return self.tables.setdefault(name, TableCounts(name))

    @property
    def duration_s(self) -> float:
        end = self.finished_at or self.started_at
        return (end - self.started_at).total_seconds()
