"""Shared GCRA buckets (client.ports.RateLimitStore): one atomic reservation per request.

GCRA with burst 1: `tat = max(tat, now) + interval`; the caller waits `tat - interval - now`.
PostgreSQL takes `now` from the database clock so that every host agrees; SQLite lives on one
host, so Python's clock is read after BEGIN IMMEDIATE has taken the write lock.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from hostaway_pipeline.warehouse.schema import rate_limit_buckets

_PG_RESERVE = """
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::double precision AS now)
INSERT INTO hostaway.rate_limit_buckets AS b (bucket, tat)
SELECT :bucket, clock.now + :interval FROM clock
ON CONFLICT (bucket) DO UPDATE
    SET tat = GREATEST(b.tat, (SELECT now FROM clock)) + :interval
RETURNING b.tat, (SELECT now FROM clock)
"""

_SQLITE_RESERVE = """
INSERT INTO rate_limit_buckets AS b (bucket, tat) VALUES (:bucket, :now + :interval)
ON CONFLICT (bucket) DO UPDATE SET tat = max(b.tat, :now) + :interval
RETURNING tat
"""


class SqlRateLimitStore:
    """RateLimitStore on the warehouse database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._pg = engine.dialect.name == "postgresql"

    def reserve(self, bucket: str, interval_s: float) -> float:
        """Reserve the next slot of `bucket`, `interval_s` after the last; seconds to wait."""
        if not interval_s >= 0:
            raise ValueError(f"interval_s must be >= 0, got {interval_s!r}")
        params = {"bucket": bucket, "interval": float(interval_s)}
        with self._engine.begin() as conn:
            if self._pg:
                tat, now = conn.execute(sa.text(_PG_RESERVE), params).one()
            else:
                now = time.time()  # after BEGIN IMMEDIATE: no other reservation can interleave
                tat = conn.execute(sa.text(_SQLITE_RESERVE), {**params, "now": now}).scalar_one()
        wait = tat - interval_s - now
        return wait if wait > 1e-6 else 0.0  # below a microsecond is float rounding, not a wait

    def reset(self, bucket: str) -> None:
        """Forget a bucket's state (tests and operators)."""
        with self._engine.begin() as conn:
            conn.execute(sa.delete(rate_limit_buckets).where(rate_limit_buckets.c.bucket == bucket))
