"""Column types the warehouse tables share: aware UTC timestamps, JSON payloads (JSONB on
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """TIMESTAMPTZ that only accepts aware datetimes and always returns aware UTC ones.

    SQLite has no time zones: values are stored as naive UTC text and read back as UTC.
    Naive datetimes are rejected so that a time zone mistake cannot be stored silently.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.__class__ is datetime and value.tzinfo is UTC and dialect.name != "sqlite":
            return value  # the common case, kept cheap: this runs for every timestamp written
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: attach a time zone (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Payload = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TZ = UTCDateTime
