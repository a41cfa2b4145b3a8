"""Reading what the marts need (never guest data) and replacing an account's rows of a mart."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema

if TYPE_CHECKING:  # imported where used: loading the definitions need not pay for pandas
    import pandas as pd

# The columns each mart reads, per table: ids, dates, statuses, money. Guest fields never.
RESERVATION_COLUMNS = (
    "id", "listing_map_id", "channel_id", "status", "arrival_date", "departure_date", "nights",
    "currency", "total_price",
)  # fmt: skip
FINANCE_COLUMNS = (
    "reservation_id", "type", "name", "value", "total", "is_included_in_total_price", "is_deleted",
)  # fmt: skip
CALENDAR_COLUMNS = ("listing_map_id", "date", "is_available", "status")

# The columns read per entity table (a mart's `reads`, catalog/marts.py).
READ_COLUMNS: dict[str, tuple[str, ...]] = {
    "reservations": RESERVATION_COLUMNS,
    "reservation_finance_fields": FINANCE_COLUMNS,
    "listing_calendar": CALENDAR_COLUMNS,
}


def live_rows(
    engine: sa.Engine, table_name: str, account_id: int, columns: tuple[str, ...]
) -> pd.DataFrame:
    """The account's live rows of an entity table, only `columns`."""
    import pandas as pd

    table = schema.table(table_name)
    query = sa.select(*(table.c[c] for c in columns)).where(
        table.c.account_id == account_id, table.c.deleted_at.is_(None)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).mappings().all(), columns=list(columns))


def live_reservations(engine: sa.Engine, account_id: int) -> pd.DataFrame:
    """The account's live reservations, with the columns the marts need (no guest data)."""
    return live_rows(engine, "reservations", account_id, RESERVATION_COLUMNS)


def live_finance_fields(engine: sa.Engine, account_id: int) -> pd.DataFrame:
    return live_rows(engine, "reservation_finance_fields", account_id, FINANCE_COLUMNS)


def live_calendar(engine: sa.Engine, account_id: int) -> pd.DataFrame:
    return live_rows(engine, "listing_calendar", account_id, CALENDAR_COLUMNS)


def _plain(value: Any) -> Any:
    """A value the driver takes: numpy scalars unwrapped, NaN/NaT as NULL."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return None if value.__class__.__name__ in ("NaTType", "NAType") else value


def replace_mart(engine: sa.Engine, table_name: str, account_id: int, frame: pd.DataFrame) -> int:
    """Swap in the account's rows of a mart in one transaction; returns the rows written."""
    table = schema.table(table_name)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {**{str(k): _plain(v) for k, v in rec.items()}, "account_id": account_id, "computed_at": now}
        for rec in frame.to_dict("records")
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.account_id == account_id))
        if rows:
            conn.execute(sa.insert(table), rows)
    return len(rows)
