"""Sync reports as materialization metadata: the numbers the Dagster UI plots over time.

No guest personal data appears here: only counts, timings, watermarks and table facts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline.sync.report import SyncReport, TableCounts


def table_schema(table: sa.Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=str(column.type.compile(dialect=sa.dialects.postgresql.dialect())).lower(),
                constraints=dg.TableColumnConstraints(nullable=bool(column.nullable)),
            )
            for column in table.columns
        ]
    )


def _ts(value: datetime | None) -> dg.MetadataValue | str:
    return dg.MetadataValue.timestamp(value) if value is not None else "none"


def table_metadata(counts: TableCounts, table: sa.Table, live_rows: int) -> dict[str, Any]:
    """Per-table counts plus Dagster's standard table keys."""
    return {
        "records_fetched": counts.fetched,
        "inserted": counts.inserted,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "restored": counts.restored,
        "soft_deleted": counts.soft_deleted,
        "skipped": counts.skipped,
        "duplicates_in_listing": counts.duplicates,
        "untyped_fields": counts.untyped_fields,
        "sanitized_payloads": counts.sanitized,
        "erased_payloads": counts.erased,
        "listing_complete": counts.listing_complete,
        "api_count": counts.api_count if counts.api_count is not None else -1,
        "dagster/row_count": live_rows,
        "dagster/table_name": f"hostaway.{table.name}",
        "dagster/column_schema": table_schema(table),
    }


def run_metadata(report: SyncReport) -> dict[str, Any]:
    """The sync's cost and timing, shared by every table it wrote."""
    api = report.api
    return {
        "mode": report.mode,
        "api_requests": api.requests,
        "api_retries": api.retries,
        "api_429s": api.http_429,
        "rate_limit_wait_s": dg.MetadataValue.float(float(api.rate_limit_wait_s)),
        "token_source": api.token_source,
        "token_requests": api.token_requests,
        "token_refreshes": api.token_refreshes,
        "duration_s": dg.MetadataValue.float(round(report.duration_s, 3)),
        "watermark_before": _ts(report.watermark_before),
        "watermark_after": _ts(report.watermark_after),
        "parents_scanned": report.parents_scanned,
        "parents_changed": report.parents_changed,
    }
