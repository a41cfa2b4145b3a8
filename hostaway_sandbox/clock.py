"""Time helpers: the seeded base time and Hostaway's UTC text formats."""

from __future__ import annotations

import time

#: Seeded data lies before this instant: 2026-01-01 00:00:00 UTC.
BASE_TS = 1767225600
DAY = 86400

_DATE_CACHE: dict[int, str] = {}


def fmt_dt(ts: int) -> str:
    """Format epoch seconds as Hostaway's `YYYY-MM-DD HH:MM:SS` (UTC, no zone)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def fmt_date(ts: int) -> str:
    """Format epoch seconds as `YYYY-MM-DD` (UTC); cached, so equal dates share one string."""
    day = ts // DAY
    text = _DATE_CACHE.get(day)
    if text is None:
        text = _DATE_CACHE.setdefault(day, time.strftime("%Y-%m-%d", time.gmtime(day * DAY)))
    return text


def now_ts() -> int:
    """Real current time, whole seconds."""
    return int(time.time())


def now_text() -> str:
    """Real current UTC time in Hostaway's datetime format (second precision)."""
    return fmt_dt(now_ts())


def sort_int(value: str | None) -> int:
    """Map a `YYYY-MM-DD[ HH:MM:SS]` string to an int that sorts the same way (None -> 0)."""
    if not value:
        return 0
    digits = value.replace("-", "").replace(" ", "").replace(":", "")
    if len(digits) == 8:
        digits += "000000"
    return int(digits)
