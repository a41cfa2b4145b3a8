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


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Drop what was not measured: a sentinel (-1, "none") would be plotted as if it were a value."""
    return {k: v for k, v in values.items() if v is not None}


def _ts(value: datetime | None) -> dg.MetadataValue | None:
    return dg.MetadataValue.timestamp(value) if value is not None else None


def table_metadata(counts: TableCounts, table: sa.Table, live_rows: int) -> dict[str, Any]:
    """Per-table counts plus Dagster's standard keys (the schema is on the asset definition)."""
    return _present(
        {
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
            "api_count": counts.api_count,
            # The account's live rows: this partition's share of the table, not the table's total.
            "dagster/partition_row_count": live_rows,
            "dagster/table_name": f"hostaway.{table.name}",
        }
    )


def run_metadata(report: SyncReport) -> dict[str, Any]:
    """The sync's cost and timing, shared by every table it wrote."""
    api = report.api
    return _present(
        {
            "mode": report.mode,
            "stream": report.stream,  # the engine run these figures belong to
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
            "parents_skipped": report.parents_skipped,
            # Moved parents whose new children the webhooks had delivered (not refetched).
            "parents_covered_by_webhooks": report.parents_covered,
            "reverify_slice": report.reverify_slice if report.mode == "full" else None,
            "parents_reverified": report.parents_reverified if report.mode == "full" else None,
        }
    )
