"""Reading stays for reports and replacing an account's computed monthly listing stats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema

if TYPE_CHECKING:  # imported where used: loading the definitions need not pay for pandas
    import pandas as pd


def live_reservations(engine: sa.Engine, account_id: int) -> pd.DataFrame:
    """The account's live reservations, with the columns stay reports need (no guest data)."""
    import pandas as pd

    table = schema.table("reservations")
    query = sa.select(
        table.c.listing_map_id,
        table.c.status,
        table.c.arrival_date,
        table.c.departure_date,
        table.c.total_price,
    ).where(table.c.account_id == account_id, table.c.deleted_at.is_(None))
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).mappings().all(), columns=list(query.selected_columns.keys())
        )


def replace_listing_stats(engine: sa.Engine, account_id: int, stats: pd.DataFrame) -> int:
    """Swap in the account's monthly stats in one transaction; returns the rows written."""
    table = schema.table("listing_monthly_stats")
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {**{str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()},
         "account_id": account_id, "computed_at": now}
        for rec in stats.to_dict("records")
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.account_id == account_id))
        if rows:
            conn.execute(sa.insert(table), rows)
    return len(rows)
