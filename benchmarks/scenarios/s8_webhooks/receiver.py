"""Scenario 8, part 2: the receiver's throughput, and the receiver's secret every part shares."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from benchmarks.context import Context
from benchmarks.webhook_load import ReceiverProcess, post_load

SECRET = "bench-hooks receiver secret, 32 characters or more"


def keyed(engine: sa.Engine, account_ids: list[int], url: str) -> dict[int, tuple[str, str]]:
    """Record each account's registration with a fresh key id (as `webhooks register` does,
    without the API): its Basic-auth pair."""
    from hostaway_pipeline.webhooks.credentials import derive, new_key_id
    from hostaway_pipeline.webhooks.store import registrations as regs

    out = {}
    for aid in account_ids:
        key_id = new_key_id()
        regs.begin_keying(engine, aid, url, key_id)
        regs.record_registered(engine, aid, 1, url, key_id=key_id)
        cred = derive(SECRET, aid, key_id)
        out[aid] = (cred.login, cred.password)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def throughput(ctx: Context, receiver: ReceiverProcess, accounts: list[int],
               auth: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:  # fmt: skip
    rows, serial = [], 0
    for threads in ctx.pick([1, 4, 16], [1, 2]):
        events = []
        for _ in range(ctx.pick(1500, 40)):
            serial += 1
            data = {"id": 90_000_000 + serial, "guestNote": f"n{serial}",
                    "updatedOn": "2026-12-01 10:00:00", "latestActivityOn": "2026-12-01 10:00:00"}  # fmt: skip
            events.append({"object": "reservation", "event": "reservation.updated",
                           "accountId": accounts[serial % len(accounts)], "data": data})  # fmt: skip
        wall, lat, statuses = post_load(receiver.url, auth, events, threads)
        rows.append({
            "client threads": threads, "events": len(events), "events/s": round(len(events) / wall, 1),
            "ack p50 ms": round(1000 * pct(lat, 0.5), 1), "ack p99 ms": round(1000 * pct(lat, 0.99), 1),
            "statuses": statuses,
        })  # fmt: skip
    return rows
