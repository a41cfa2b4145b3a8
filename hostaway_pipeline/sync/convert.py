"""Typing API values into warehouse columns; the payload itself is always stored untouched.

Hostaway sends booleans as 0/1, datetimes as `YYYY-MM-DD HH:MM:SS` in UTC without a zone and money
as numbers or strings. A value that cannot be typed exactly (wrong type or format, out of the
column's range, text the column cannot hold) leaves its column NULL and is counted and logged (by
record id and field, never by value): the original stays in `payload`, so nothing is lost and
nothing wrong is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hostaway_pipeline.catalog import Field, Kind
from hostaway_pipeline.client.payloads import NumberLiteral

_MAX_TEXT = 10_000  # longer values are not typed (a name or status of 10k characters is not one)
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII only: "²" and "١٢" are digits to str.isdigit()
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
# What the column types hold: PostgreSQL integer and bigint.
_INT_RANGE = {Kind.INT: 2**31, Kind.BIGINT: 2**63}
# Longer digit strings are out of every column's range: refused before int(), which raises a
# plain ValueError past 4,300 digits (a 5,000-digit string once failed a sync on every run).
_MAX_DIGITS = 40
# Characters PostgreSQL text cannot hold (NUL) or UTF-8 cannot encode (unpaired surrogates).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class Unconvertible(ValueError):
    """A payload value does not fit its column type."""


def _to_integer(value: Any, kind: Kind) -> int:
    if isinstance(value, bool):
        raise Unconvertible("boolean where an integer was expected")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        if len(value.strip()) > _MAX_DIGITS:
            raise Unconvertible("integer out of the column's range")
        value = int(value.strip())
    if not isinstance(value, int):
        raise Unconvertible(f"not an integer ({type(value).__name__})")
    bound = _INT_RANGE[kind]
    if not -bound <= value < bound:
        raise Unconvertible("integer out of the column's range")
    return value


def to_int(value: Any) -> int:
    return _to_integer(value, Kind.INT)


def to_bigint(value: Any) -> int:
    return _to_integer(value, Kind.BIGINT)


def to_str(value: Any) -> str:
    if isinstance(value, bool | dict | list | NumberLiteral):
        raise Unconvertible(f"not text ({type(value).__name__})")
    text = str(value)
    if len(text) > _MAX_TEXT:
        raise Unconvertible(f"longer than {_MAX_TEXT} characters")
    if _UNSTORABLE.search(text):
        raise Unconvertible("holds NUL or an unpaired surrogate, which text columns cannot store")
    return text


def to_bool(value: Any) -> bool:
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise Unconvertible("not a 0/1 boolean")


def _parse_iso(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip() or not value.isascii():
        raise Unconvertible("not a datetime string")
    text = value.strip()
    if text.startswith("0000-00-00"):
        raise Unconvertible("zero date")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unconvertible("unrecognised datetime format") from exc


def to_datetime(value: Any) -> datetime:
    parsed = _parse_iso(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # Hostaway documents zone-less datetimes as UTC
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise Unconvertible("datetime out of range") from exc


def to_date(value: Any) -> date:
    # A calendar date as written: an arrival date sent with a time and offset keeps its day.
    return _parse_iso(value).date()


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unconvertible("not a number")
    if isinstance(value, int) and abs(value) >= 10**12:  # before str(): no 4,300-digit limit hit
        raise Unconvertible("number out of range")
    text = str(value).strip()
    if isinstance(value, str) and not _DECIMAL.fullmatch(text):
        raise Unconvertible("not a number")  # no "1_000", "NaN", "١٢" or "0x10"
    if len(text) > 1000:  # Decimal() of a huge exponent or digit string: out of range anyway
        raise Unconvertible("number out of range")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise Unconvertible("not a number") from exc
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise Unconvertible("number out of range")
    if number and number.adjusted() < -100:
        raise Unconvertible("number too small to store")
    return number


CONVERTERS: Mapping[Kind, Callable[[Any], object]] = {
    Kind.INT: to_int,
    Kind.BIGINT: to_bigint,
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
