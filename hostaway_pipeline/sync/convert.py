"""Typing API values into warehouse columns; the payload itself is always stored untouched.

Hostaway sends booleans as 0/1, datetimes as `YYYY-MM-DD HH:MM:SS` in UTC without a zone and money
as numbers or strings. A value that cannot be typed leaves its column NULL and is counted and logged
(by record id and field, never by value): the original stays in `payload`, so nothing is lost and
nothing wrong is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hostaway_pipeline.streams import Field, Kind

_MAX_TEXT = 10_000  # typed text columns hold a prefix; the full value stays in the payload


class Unconvertible(ValueError):
    """A payload value does not fit its column type."""


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise Unconvertible("boolean where an integer was expected")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise Unconvertible(f"not an integer ({type(value).__name__})")


def to_str(value: Any) -> str:
    if isinstance(value, bool | dict | list):
        raise Unconvertible(f"not text ({type(value).__name__})")
    # PostgreSQL text cannot hold NUL; the untouched value remains in the payload.
    return str(value).replace("\x00", "\ufffd")[:_MAX_TEXT]


def to_bool(value: Any) -> bool:
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise Unconvertible("not a 0/1 boolean")


def to_datetime(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise Unconvertible("not a datetime string")
    text = value.strip()
    if text.startswith("0000-00-00"):
        raise Unconvertible("zero date")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unconvertible("unrecognised datetime format") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # Hostaway documents zone-less datetimes as UTC
    return parsed.astimezone(UTC)


def to_date(value: Any) -> date:
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise Unconvertible("unrecognised date format") from exc
    return to_datetime(value).date()


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unconvertible("not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise Unconvertible("not a number") from exc
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise Unconvertible("number out of range")
    return number


CONVERTERS: Mapping[Kind, Callable[[Any], object]] = {
    Kind.INT: to_int,
    Kind.STR: to_str,
    Kind.BOOL: to_bool,
    Kind.DATETIME: to_datetime,
    Kind.DATE: to_date,
    Kind.DECIMAL: to_decimal,
}


def typed_row(
    record: Mapping[str, Any], fields: tuple[Field, ...]
) -> tuple[dict[str, object], list[str]]:
    """Typed column values of one record, and the names of fields that could not be typed."""
    row: dict[str, object] = {}
    bad: list[str] = []
    for field in fields:
        value = record.get(field.source)
        if value is None or value == "":
            row[field.column] = None
            continue
        try:
            row[field.column] = CONVERTERS[field.kind](value)
        except Unconvertible:
            row[field.column] = None
            bad.append(field.source)
    return row, bad


def cursor_value(record: Mapping[str, Any], source: str) -> datetime | None:
    """The record's cursor as a UTC datetime, or None when missing or unreadable."""
    try:
        return to_datetime(record.get(source))
    except Unconvertible:
        return None
