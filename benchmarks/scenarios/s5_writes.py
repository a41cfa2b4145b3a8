"""Scenario 5: the warehouse write path alone, `upsert_rows` against PostgreSQL COPY.

Rows are real reservation payloads from the sandbox's seeding, typed as the engine types them
(`typed_row`), written one transaction per batch as the engine writes a page. The bound is COPY
(psycopg 3 `cursor.copy`) of the same rows into the same empty table in one transaction,
serialising and hashing each payload as it goes (the table needs both; `prebuilt` shows COPY
with that work done beforehand).
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from benchmarks.context import Context
from benchmarks.results_model import ScenarioResult, measure
from benchmarks.warehouse import fresh_warehouse
from hostaway_pipeline.catalog import RESERVATIONS
from hostaway_pipeline.sync.convert import typed_row
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.schema import typed_columns
from hostaway_pipeline.warehouse.writes import canonical_json, upsert_rows
from hostaway_sandbox import SandboxState, SeedSpec

Row = dict[str, Any]
TABLE = schema.table("reservations")


@dataclass(frozen=True)
class Sizes:
    rows: int
    batches: tuple[int, ...]  # the first is the engine's page
    repeats: int  # each case runs this often; the median counts


FULL = Sizes(rows=20_000, batches=(100, 1_000, 10_000), repeats=3)
SMOKE = Sizes(rows=1_000, batches=(100, 500), repeats=1)


def make_rows(n: int) -> tuple[int, list[Row]]:
    """`n` reservation rows ({"id", "payload", typed columns}) of one seeded account."""
    state = SandboxState(SeedSpec(accounts=1, listings=max(10, n // 100), reservations=n))
    (aid,) = state.account_ids()
    rows = []
    for record in state.reservations(aid):
        typed, _ = typed_row(record, RESERVATIONS.fields)
        rows.append({"id": record["id"], "payload": record, **typed})
    return aid, rows


def _truncate(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE hostaway.reservations"))


def upsert_in_batches(engine: sa.Engine, aid: int, rows: list[Row], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        with engine.begin() as conn:
            upsert_rows(conn, TABLE, aid, rows[i : i + batch])
    return time.perf_counter() - started


def copy_rows(engine: sa.Engine, aid: int, rows: list[Row], prebuilt: bool) -> float:
    typed = list(typed_columns(TABLE))
    names = ["account_id", "id", "payload", "payload_hash", "first_seen_at", "synced_at", *typed]
    now = datetime.now(UTC)

    def build(row: Row) -> list[Any]:
        canonical = canonical_json(row["payload"])
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return [aid, row["id"], canonical, digest, now, now, *(row.get(c) for c in typed)]

    ready = [build(r) for r in rows] if prebuilt else None
    started = time.perf_counter()
    values: Iterable[list[Any]] = ready if ready is not None else map(build, rows)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cols = ", ".join(f'"{n}"' for n in names)
        with raw.cursor() as cur, cur.copy(f"COPY hostaway.reservations ({cols}) FROM STDIN") as cp:
            for value in values:
                cp.write_row(value)
    return time.perf_counter() - started


def _rate(n: int, timings: list[float]) -> int:
    return round(n / statistics.median(timings))


def run(ctx: Context) -> ScenarioResult:
    sizes = ctx.pick(FULL, SMOKE)
    n, repeats, batches = sizes.rows, sizes.repeats, sizes.batches
    aid, rows = make_rows(n)
    changed = [{**r, "payload": {**r["payload"], "guestNote": "late arrival"}} for r in rows]
    engine = fresh_warehouse(ctx.db_url, ctx.key, {})

    def timed(prepare: Callable[[], None], work: Callable[[], float]) -> int:
        timings = []
        for _ in range(repeats):
            prepare()
            timings.append(work())
        return _rate(n, timings)

    def empty() -> None:
        _truncate(engine)

    def filled() -> None:
        _truncate(engine)
        upsert_in_batches(engine, aid, rows, batches[0])

    def upsert(data: list[Row], batch: int) -> Callable[[], float]:
        return lambda: upsert_in_batches(engine, aid, data, batch)

    copy_rate = timed(empty, lambda: copy_rows(engine, aid, rows, False))
    copy_pre = timed(empty, lambda: copy_rows(engine, aid, rows, True))
    details: list[dict[str, Any]] = [
        {"method": "COPY, one transaction", "batch": n, "rows": "new", "rows_per_s": copy_rate},
        {"method": "COPY, prebuilt values", "batch": n, "rows": "new", "rows_per_s": copy_pre},
    ]
    inserts: dict[int, int] = {}
    for batch in batches:
        inserts[batch] = timed(empty, upsert(rows, batch))
        details.append({"method": "upsert_rows", "batch": batch, "rows": "new",
                        "rows_per_s": inserts[batch]})  # fmt: skip
    page = batches[0]
    unchanged = timed(filled, upsert(rows, page))
    updated = timed(filled, upsert(changed, page))
    details += [
        {"method": "upsert_rows", "batch": page, "rows": "unchanged", "rows_per_s": unchanged},
        {"method": "upsert_rows", "batch": page, "rows": "payload changed", "rows_per_s": updated},
    ]
    for d in details:
        d["vs_COPY"] = round(d["rows_per_s"] / copy_rate, 2)
    engine.dispose()
    big = batches[-1]
    return ScenarioResult(
        id=5,
        title="Warehouse write path: upsert_rows vs COPY",
        measures=[
            measure(f"upsert rows/s, batches of {page}", inserts[page], "", ">=", 20_000),
            measure(
                f"upsert / COPY, batches of {page}",
                round(inserts[page] / copy_rate, 2),
                "x",
                ">=",
                0.33,
            ),
            measure(f"upsert rows/s, batches of {big:,}", inserts[big], "", ">=", 20_000),
            measure(
                f"upsert / COPY, batches of {big:,}",
                round(inserts[big] / copy_rate, 2),
                "x",
                ">=",
                0.33,
            ),
            measure("COPY rows/s", copy_rate),
        ],
        details=details,
        settings={"rows": n, "table": "hostaway.reservations", "repeats (median)": repeats},
        notes=[
            "Every upsert batch is its own transaction (as the engine commits each page). "
            "`new`: into an empty table; `unchanged`: the same rows again (hash check, no "
            "write); `payload changed`: every row updated.",
        ],
    )
