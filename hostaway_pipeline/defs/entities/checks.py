"""Checks emitted with each materialization (per partition): completeness, duplicates, orphans."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline.catalog import Incremental, Pagination, StreamSpec
from hostaway_pipeline.sync.availability import may_be_unavailable
from hostaway_pipeline.sync.report import SyncReport
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.availability import Unavailable
from hostaway_pipeline.warehouse.quality import live_row_count, orphan_children


def _key(spec: StreamSpec) -> dg.AssetKey:
    return dg.AssetKey(["hostaway", spec.name])


def _specs_of(spec: StreamSpec) -> list[dg.AssetCheckSpec]:
    checks = [
        dg.AssetCheckSpec(
            "no_duplicate_records",
            asset=_key(spec),
            description="The API returned no record twice in this run (pages shifting under us).",
        )
    ]
    if spec.parent is None:
        checks.append(
            dg.AssetCheckSpec(
                "row_count_matches_api",
                asset=_key(spec),
                description="Live warehouse rows match the API's own total for the account "
                "(unpaged lists: the records of the answer).",
            )
        )
    else:
        checks.append(
            dg.AssetCheckSpec(
                orphan_check_name(spec),
                asset=_key(spec),
                description=f"Every live row of {spec.name} belongs to a live row of "
                f"{spec.parent.name} (by {spec.parent_key_column}).",
            )
        )
    if may_be_unavailable(spec):
        checks.append(
            dg.AssetCheckSpec(
                AVAILABLE_CHECK,
                asset=_key(spec),
                description="Hostaway lets the account read this entity (fails while it is "
                "refused although the token works for the core entities: skipped until a full "
                "sync or `accounts resync` retries it).",
            )
        )
    return checks


AVAILABLE_CHECK = "entity_available"


def unavailable_events(
    spec: StreamSpec, refused: Unavailable, partition: str
) -> list[dg.AssetCheckResult | dg.AssetObservation]:
    """What a step reports for an entity Hostaway refuses to the account: a failed (warning)
    availability check and an observation, both with the recorded refusal (our own message)."""
    facts: dict[str, str | int] = {
        "unavailable_since": refused.since.isoformat(),
        "last_refused_at": refused.checked_at.isoformat(),
        "status": refused.status or 0,
        "reason": refused.reason,
    }
    return [
        dg.AssetCheckResult(
            check_name=AVAILABLE_CHECK, asset_key=_key(spec), passed=False,
            severity=dg.AssetCheckSeverity.WARN, metadata=facts,
        ),
        dg.AssetObservation(asset_key=_key(spec), partition=partition,
                            metadata={"unavailable": True, **facts}),
    ]  # fmt: skip


def orphan_check_name(spec: StreamSpec) -> str:
    """The parent check of a child stream, e.g. messages_have_conversations."""
    assert spec.parent is not None
    return f"{spec.name}_have_{spec.parent.name}"


def check_specs_for(spec: StreamSpec) -> list[dg.AssetCheckSpec]:
    """The checks of a sync asset and of a parent it lists itself (conversations of messages)."""
    listed = [spec.parent] if spec.parent and not spec.parent.standalone else []
    return [c for s in [*listed, spec] for c in _specs_of(s)]


def check_results(
    spec: StreamSpec, report: SyncReport, engine: sa.Engine
) -> list[dg.AssetCheckResult]:
    counts = report.table(spec.table)
    results = [
        dg.AssetCheckResult(
            check_name="no_duplicate_records",
            asset_key=_key(spec),
            passed=counts.duplicates == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"duplicates": counts.duplicates},
        )
    ]
    if may_be_unavailable(spec):  # it synced: Hostaway lets the account read it
        results.append(dg.AssetCheckResult(check_name=AVAILABLE_CHECK, asset_key=_key(spec),
                                           passed=True))  # fmt: skip
    if spec.parent is not None:
        assert spec.parent_key_column is not None
        orphans = orphan_children(
            engine, schema.table(spec.table), schema.table(spec.parent.table),
            spec.parent_key_column, report.account_id,
        )  # fmt: skip
        results.append(
            dg.AssetCheckResult(
                check_name=orphan_check_name(spec),
                asset_key=_key(spec),
                passed=orphans == 0,
                metadata={f"orphan_{spec.name}": orphans},
            )
        )
        return results
    live = live_row_count(engine, schema.table(spec.table), report.account_id)
    # A date-filtered incremental listing reports the filtered total: we must hold at least that.
    filtered = report.mode == "incremental" and spec.incremental is Incremental.LATEST_ACTIVITY
    api_count = counts.api_count
    if api_count is None and spec.pagination is Pagination.NONE and spec.soft_delete:
        api_count = counts.fetched - counts.duplicates  # one answer: its distinct records
    passed = api_count is None or (live >= api_count if filtered else live == api_count)
    rule = "live_rows >= api_count" if filtered else "live_rows == api_count"
    results.append(
        dg.AssetCheckResult(
            check_name="row_count_matches_api",
            asset_key=_key(spec),
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            # Said in words: the UI lists metadata alphabetically (api_count, then live_rows).
            description=(
                f"no API total to compare with {live} live rows"
                if api_count is None
                else f"{live} live rows {'>=' if filtered else '=='} {api_count} from the API: "
                + ("holds" if passed else "does not hold")
            ),
            metadata={
                "live_rows": live,
                "rule": rule,
                # Absent when the API gave no total (nothing to compare): no -1 sentinel.
                **({"api_count": api_count} if api_count is not None else {}),
            },
        )
    )
    return results
