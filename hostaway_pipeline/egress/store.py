"""Egresses as the warehouse knows them: table `egress_addresses` (no HTTP, no Dagster).

One row per (egress id, source address) a worker observed through the IP echo at start and
refreshes while it runs (`seen_at`). The start check reads it: an egress id recently seen from
another address means two machines believe they own one per-IP bucket while Hostaway counts
them as two IPs (harmless) or, worse, two ids on one address split one IP's budget in two
(429s). Rows older than the freshness window are history, not owners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.schema import account_costs, egress_addresses

# A worker refreshes its row every minute (egress/worker.py). For the start check, one not
# refreshed for this long is gone; for routing runs, one silent for LIVE_FOR gets no new runs.
FRESH_FOR = timedelta(minutes=15)
LIVE_FOR = timedelta(minutes=3)
# The address of a worker started without an IP echo: it counts for routing, never compared.
UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Sighting:
    """An egress id seen from an address by a host, recently (`seen_at`)."""

    egress_id: str
    address: str
    hostname: str
    seen_at: datetime


@dataclass(frozen=True)
class EgressReport:
    """What the start check found besides our own row."""

    conflicts: list[Sighting]  # our egress id, seen from another address
    shared: list[Sighting]  # other egress ids seen from our address


def sightings(engine: sa.Engine, since: datetime) -> list[Sighting]:
    """Every (egress id, address) seen since then, newest first."""
    t = egress_addresses
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.egress_id, t.c.address, t.c.hostname, t.c.seen_at)
            .where(t.c.seen_at >= since)
            .order_by(t.c.seen_at.desc())
        ).all()
    return [Sighting(*row) for row in rows]


def others(
    engine: sa.Engine, egress_id: str, address: str, now: datetime | None = None
) -> EgressReport:
    """The recent sightings that disagree with (egress_id, address)."""
    now = now or datetime.now(UTC)
    seen = [s for s in sightings(engine, now - FRESH_FOR) if s.address != UNCHECKED]
    if address == UNCHECKED:
        return EgressReport(conflicts=[], shared=[])
    return EgressReport(
        conflicts=[s for s in seen if s.egress_id == egress_id and s.address != address],
        shared=[s for s in seen if s.address == address and s.egress_id != egress_id],
    )


def record(
    engine: sa.Engine, egress_id: str, address: str, hostname: str, now: datetime | None = None
) -> None:
    """Record (or refresh) that `hostname` sends from `address` as `egress_id`."""
    now = now or datetime.now(UTC)
    values = {"egress_id": egress_id, "address": address, "hostname": hostname}
    with engine.begin() as conn:
        stmt = dialect_insert(conn, egress_addresses).values(
            **values, first_seen_at=now, seen_at=now
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["egress_id", "address"],
                set_={"hostname": hostname, "seen_at": now},
            )
        )


def forget(engine: sa.Engine, egress_id: str, address: str) -> None:
    """Drop a row (a worker that stops cleanly gives its address up at once)."""
    t = egress_addresses
    with engine.begin() as conn:
        conn.execute(sa.delete(t).where(t.c.egress_id == egress_id, t.c.address == address))


def live_egresses(engine: sa.Engine, now: datetime | None = None) -> list[str]:
    """Egress ids whose workers reported within LIVE_FOR, sorted."""
    now = now or datetime.now(UTC)
    return sorted({s.egress_id for s in sightings(engine, now - LIVE_FOR)})


def save_costs(engine: sa.Engine, costs: dict[int, float], now: datetime | None = None) -> None:
    """Record each account's projected requests per day (replacing earlier figures)."""
    now = now or datetime.now(UTC)
    if not costs:
        return
    with engine.begin() as conn:
        stmt = dialect_insert(conn, account_costs)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id"],
                set_={"requests_per_day": stmt.excluded.requests_per_day, "computed_at": now},
            ),
            [
                {"account_id": a, "requests_per_day": float(c), "computed_at": now}
                for a, c in costs.items()
            ],
        )


def load_costs(engine: sa.Engine) -> dict[int, float]:
    """Account -> projected requests per day, as last recorded."""
    t = account_costs
    with engine.connect() as conn:
        return {a: c for a, c in conn.execute(sa.select(t.c.account_id, t.c.requests_per_day))}
