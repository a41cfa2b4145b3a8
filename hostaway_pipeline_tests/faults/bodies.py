"""Strategies for hostile response bodies, and the oracle of what storing them must give.

Each field value is drawn either from what Hostaway documents for its kind or from junk: wrong
types, nulls, objects, huge strings, odd Unicode (NUL, unpaired surrogates, right-to-left marks),
numbers out of any column's range, NaN, dates in other formats. Records get unknown fields,
and ids that are missing, duplicated, strings, floats, booleans or beyond 64 bits.

The oracle says, independently of `sync/convert.py`, what a typed column may hold for a value:
exactly one value, NULL, or either NULL or one value (formats the engine need not understand,
but must not misread).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from hostaway_pipeline.catalog import Field, Kind, StreamSpec

MAX_TEXT = 10_000
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_ASCII_INT = re.compile(r"\s*-?[0-9]+\s*")
_ASCII_DEC = re.compile(r"\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")
_INT_BOUND = {Kind.INT: 2**31, Kind.BIGINT: 2**63}


@dataclass(frozen=True)
class Dated:
    """A date or datetime written in some format, and what it means."""

    text: str | int
    instant: datetime | None  # the UTC instant meant (None: beyond what a datetime can hold)
    day: date  # the calendar day as written
    iso: bool  # an ISO 8601 form the engine must read


# -- values ------------------------------------------------------------------------------------

odd_char = st.characters(exclude_categories=()) | st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\u202e", "\ufeff", "\U0001f600", "\u0301", "\\", '"']
)
odd_text = st.text(odd_char, max_size=40)
huge_text = st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\U0001f600"]),
                      st.integers(MAX_TEXT - 2, 60_000))  # fmt: skip
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _instant(moment: datetime) -> datetime | None:
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        return None


@st.composite
def dated(draw: st.DrawFn) -> Dated:
    """A datetime or date in one of many formats, ISO or not."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    zone = draw(st.none() | st.just(UTC) | offsets)
    aware = moment.replace(tzinfo=zone)
    form = draw(st.sampled_from(["space", "t", "z", "date", "dmy", "mdy", "rfc", "epoch",
                                 "epoch_int", "dotted"]))  # fmt: skip
    day = aware.date()
    if form == "space":
        return Dated(aware.isoformat(sep=" "), _instant(aware), day, True)
    if form == "t":
        return Dated(aware.isoformat(), _instant(aware), day, True)
    if form == "z":
        utc = moment.replace(tzinfo=UTC)
        return Dated(moment.isoformat() + "Z", utc, utc.date(), True)
    if form == "date":
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        return Dated(day.isoformat(), midnight, day, True)
    if moment.year < 1900:
        return Dated(f"{moment:%d}/{moment:%m}/{moment.year}", _instant(aware), day, False)
    text = {
        "dmy": f"{aware:%d/%m/%Y %H:%M}",
        "mdy": f"{aware:%m/%d/%Y}",
        "rfc": f"{aware:%a, %d %b %Y %H:%M:%S} GMT",
        "dotted": f"{aware:%d.%m.%Y}",
        "epoch": str(int((aware if zone else moment.replace(tzinfo=UTC)).timestamp())),
        "epoch_int": "",
    }[form]
    if form == "epoch_int":
        return Dated(int(moment.replace(tzinfo=UTC).timestamp()), _instant(aware), day, False)
    return Dated(text, _instant(aware), day, False)


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


json_scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text
)
junk = (
    json_scalar
    | huge_text
    | st.integers(min_value=2**31 - 2, max_value=2**70)
    | st.integers(max_value=-(2**31) + 2, min_value=-(2**70))
    | st.lists(json_scalar, max_size=3)
    | st.dictionaries(odd_text, json_scalar, max_size=3)
    | st.integers(50, 400).map(nested)
    | dated()
    | st.sampled_from(["", " ", "null", "0000-00-00 00:00:00", "١٢٣", "²", "1_000", "0x1F", "1e3",
                       "NaN", "-0", "+7", " 42 ", "true", "TRUE", "2", "12.50"])
)  # fmt: skip
not_json = st.sampled_from([math.nan, math.inf, -math.inf])


def valid_for(kind: Kind) -> st.SearchStrategy[Any]:
    """What Hostaway documents for a field of this kind."""
    return {
        Kind.INT: st.integers(0, 10_000),
        Kind.BIGINT: st.integers(1, 10**12),
        Kind.STR: st.text(max_size=30),
        Kind.BOOL: st.sampled_from([0, 1]),
        Kind.DATETIME: dated(),
        Kind.DATE: dated(),
        Kind.DECIMAL: st.decimals(-(10**9), 10**9, places=2).map(str)
        | st.floats(-1e9, 1e9, allow_nan=False),
    }[kind]


def field_value(kind: Kind, nan_ok: bool) -> st.SearchStrategy[Any]:
    values = valid_for(kind) | junk
    return values | not_json if nan_ok else values


@st.composite
def record(draw: st.DrawFn, spec: StreamSpec, nan_ok: bool) -> dict[str, Any]:
    """One record: some of the spec's fields, some unknown fields (the id comes later)."""
    out: dict[str, Any] = {}
    for f in spec.fields:
        if draw(st.integers(0, 9)) < 8:
            value = draw(field_value(f.kind, nan_ok and draw(st.integers(0, 30)) == 0))
            out[f.source] = value.text if isinstance(value, Dated) else value
            if isinstance(value, Dated):
                DATES[(f.source, _key(value.text))] = value
    extra = draw(st.dictionaries(odd_text, json_scalar | st.dictionaries(odd_text, json_scalar),
                                 max_size=3))  # fmt: skip
    for key, value in extra.items():
        out.setdefault(key, value)
    return out


# Dates drawn by `dated` by (field, text), so the oracle knows what a text meant.
DATES: dict[tuple[str, object], Dated] = {}


def _key(text: str | int) -> object:
    return ("i", text) if isinstance(text, int) else ("s", text)


@st.composite
def page(draw: st.DrawFn, spec: StreamSpec, first_id: int, nan_ok: bool = True) -> list[Any]:
    """A page of records with mostly good, sometimes broken ids (and sometimes a non-object)."""
    size = draw(st.integers(0, 6))
    records: list[Any] = []
    next_id = first_id
    for _ in range(size):
        rec = draw(record(spec, nan_ok))
        how = draw(st.integers(0, 40))
        if how == 0:
            records.append(
                draw(st.none() | st.integers() | odd_text | st.lists(st.integers(), max_size=2))
            )
            continue
        if how == 1:
            pass  # no id at all
        elif how == 2:
            rec["id"] = draw(
                st.sampled_from([str(next_id), float(next_id), True, 2**64, -(2**63) - 1])
            )
        elif how in (3, 4) and records:
            previous = [r["id"] for r in records if isinstance(r, dict) and "id" in r]
            rec["id"] = draw(st.sampled_from(previous)) if previous else next_id
        else:
            rec["id"] = next_id
        next_id += 1
        records.append({"id": rec.pop("id"), **rec} if "id" in rec else rec)
    return records


# -- the oracle --------------------------------------------------------------------------------

ANY = object()  # the column may hold NULL or the one value given alongside


def has_unjsonable(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_unjsonable(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unjsonable(v) for v in value)
    return False


def good_id(value: Any) -> bool:
    return type(value) is int and -(2**63) <= value < 2**63


def page_is_valid(records: list[Any]) -> bool:
    # NaN and Infinity no longer make a page invalid: they are stored marked (see `sanitized`).
    return all(isinstance(r, dict) and good_id(r.get("id")) for r in records)


def expected_column(f: Field, value: Any) -> tuple[object, bool]:
    """(expected typed value, whether NULL is also acceptable) for `value` of field `f`."""
    dated_value = DATES.get((f.source, _key(value))) if isinstance(value, str | int) else None
    if value is None or value == "":
        return None, False
    if f.kind in (Kind.INT, Kind.BIGINT):
        number: int | None = None
        if type(value) is int:
            number = value
        elif (type(value) is float and value.is_integer()) or (
            isinstance(value, str) and _ASCII_INT.fullmatch(value)
        ):
            # Stripped first, as the product does: str.strip() and `\s` take "\x1f" for
            # whitespace, int() does not (hypothesis found "0\x1f").
            number = int(value.strip() if isinstance(value, str) else value)
        ok = number is not None and -_INT_BOUND[f.kind] <= number < _INT_BOUND[f.kind]
        return (number if ok else None), False
    if f.kind is Kind.STR:
        if isinstance(value, bool | dict | list):
            return None, False
        if isinstance(value, float) and not math.isfinite(value):
            return None, False  # kept only in the payload, as its marked literal
        text = str(value)
        return (None if len(text) > MAX_TEXT or _UNSTORABLE.search(text) else text), False
    if f.kind is Kind.BOOL:
        if type(value) is bool or (type(value) is int and value in (0, 1)):
            return bool(value), False
        if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
            return value.strip().lower() in ("1", "true"), False
        return None, False
    if f.kind is Kind.DECIMAL:
        dec: Decimal | None = None
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            dec = Decimal(str(value))
        elif isinstance(value, str) and _ASCII_DEC.fullmatch(value):
            dec = Decimal(value.strip())
        if dec is not None and (abs(dec) >= 10**12 or (dec and dec.adjusted() < -100)):
            dec = None
        return dec, False
    if dated_value is not None:
        meant: object = dated_value.instant if f.kind is Kind.DATETIME else dated_value.day
        if dated_value.iso and meant is not None:
            return meant, False
        return meant, True  # a format we need not read, but must not misread
    return ANY, True  # free text: whatever an ISO reader makes of it, or NULL


MARKER = "\ufffe"


def sanitized(value: Any) -> Any:
    """`value` as the warehouse holds it: a string with NUL or an unpaired surrogate (or starting
    with the marker U+FFFE) becomes the marker plus its ASCII JSON text; NaN and Infinity become
    the marker plus their JSON literal."""
    if isinstance(value, float) and math.isnan(value):
        return MARKER + "NaN"
    if isinstance(value, float) and math.isinf(value):
        return MARKER + ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        if _UNSTORABLE.search(value) or value.startswith(MARKER):
            return MARKER + '"' + "".join(_ascii_json_char(c) for c in value) + '"'
        return value
    if isinstance(value, dict):
        return {sanitized(k): sanitized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitized(v) for v in value]
    return value


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                 "\b": "\\b", "\f": "\\f"}  # fmt: skip


def _ascii_json_char(c: str) -> str:
    if c in _JSON_ESCAPES:
        return _JSON_ESCAPES[c]
    if " " <= c <= "~":
        return c
    code = ord(c)
    if code > 0xFFFF:  # a surrogate pair, as JSON writes astral characters
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def same_json(a: Any, b: Any) -> bool:
    """JSON equality as JSONB keeps it: numbers by value (1 == 1.0, -0.0 == 0), bools apart."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Decimal) != isinstance(b, Decimal):  # a restored marked number
        x, y = float(a), float(b)  # type: ignore[arg-type]
        return (math.isnan(x) and math.isnan(y)) or x == y
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) or isinstance(b, float):
            return float(a) == float(b)
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
