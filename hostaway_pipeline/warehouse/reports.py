"""Reading stays for reports and replacing an account's computed monthly listing stats.

The stats are a pure function of the account's live reservations (the columns in `STAY_COLUMNS`),
so each replacement stores a fingerprint of those rows beside them (table `meta`, one key per
account, in the same transaction). A run whose reservations hash to the stored fingerprint, with
the stats it stored still in place, has nothing to recompute: most incremental runs change no
reservation, and computing the stats imports pandas (~0.4-0.7 CPU-s per process).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema

if TYPE_CHECKING:  # imported where used: loading the definitions need not pay for pandas
    import pandas as pd

STAY_COLUMNS = ("listing_map_id", "status", "arrival_date", "departure_date", "total_price")
# Part of every fingerprint: change it when the computation in analytics.py changes, so stats
# stored by the old code are recomputed although the reservations did not change.
STATS_VERSION = "1"


@dataclass(frozen=True)
class Stays:
    """An account's live reservations as stay reports read them (no guest data), in id order."""

    rows: list[tuple[Any, ...]]

    @property
    def fingerprint(self) -> str:
        text = json.dumps([STATS_VERSION, self.rows], default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(STAY_COLUMNS))


@dataclass(frozen=True)
class StatsSummary:
    rows: int
    listings: int
    booked_nights: int
    revenue: float


def stats_key(account_id: int) -> str:
    """The `meta` key holding the fingerprint of the stays behind the account's stored stats."""
    return f"listing_monthly_stats.input.{account_id}"


def live_stays(engine: sa.Engine, account_id: int) -> Stays:
    """The account's live reservations, with the columns stay reports need."""
    table = schema.table("reservations")
    query = (
        sa.select(*(table.c[c] for c in STAY_COLUMNS))
        .where(table.c.account_id == account_id, table.c.deleted_at.is_(None))
        .order_by(table.c.id)
    )
    with engine.connect() as conn:
        return Stays([tuple(row) for row in conn.execute(query)])


def live_reservations(engine: sa.Engine, account_id: int) -> pd.DataFrame:
    """The account's live reservations as a DataFrame (columns `STAY_COLUMNS`)."""
    return live_stays(engine, account_id).frame()


def stats_summary(engine: sa.Engine, account_id: int) -> StatsSummary:
    """Rows, listings, booked nights and revenue of the account's stored monthly stats."""
    table = schema.table("listing_monthly_stats")
    query = sa.select(
        sa.func.count(),
        sa.func.count(sa.distinct(table.c.listing_id)),
        sa.func.coalesce(sa.func.sum(table.c.booked_nights), 0),
        sa.func.coalesce(sa.func.sum(table.c.revenue), 0),
    ).where(table.c.account_id == account_id)
    with engine.connect() as conn:
        rows, listings, nights, revenue = conn.execute(query).one()
    return StatsSummary(int(rows), int(listings), int(nights), float(revenue))


def stored_stats_match(engine: sa.Engine, account_id: int, stays: Stays) -> StatsSummary | None:
    """The stored stats' summary if they were computed from exactly `stays`, else None."""
    meta = schema.meta
    with engine.connect() as conn:
        stored = conn.scalar(sa.select(meta.c.value).where(meta.c.key == stats_key(account_id)))
    if stored is None:
        return None
    fingerprint, _, rows = stored.partition(":")
    if fingerprint != stays.fingerprint:
        return None
    summary = stats_summary(engine, account_id)
    # Rows removed since (an account purge, a hand edit): what was stored is gone, recompute.
    return summary if str(summary.rows) == rows else None


def replace_listing_stats(
    engine: sa.Engine, account_id: int, stats: pd.DataFrame, stays: Stays | None = None
) -> int:
    """Swap in the account's monthly stats in one transaction; returns the rows written.

    With `stays` (the rows the stats were computed from), their fingerprint is stored with them.
    """
    table, meta = schema.table("listing_monthly_stats"), schema.meta
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {**{str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()},
         "account_id": account_id, "computed_at": now}
        for rec in stats.to_dict("records")
    ]  # fmt: skip
    key = stats_key(account_id)
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.account_id == account_id))
        if rows:
            conn.execute(sa.insert(table), rows)
        conn.execute(sa.delete(meta).where(meta.c.key == key))
        if stays is not None:
            value = f"{stays.fingerprint}:{len(rows)}"
            conn.execute(sa.insert(meta).values(key=key, value=value))
    return len(rows)
