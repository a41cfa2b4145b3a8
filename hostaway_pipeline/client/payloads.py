"""JSON payloads as the warehouse can store them, exactly recoverable.

Some values a Hostaway body may hold cannot be stored as they are: PostgreSQL JSONB and text
refuse U+0000, UTF-8 cannot encode an unpaired surrogate, and JSONB has no NaN or Infinity.
Python also turns `1e400` into `inf` and refuses integers of more than 4300 digits. Such values
are stored as a *marked string*: U+FFFE (a Unicode noncharacter, never in text people write)
followed by the value's JSON text, ASCII-escaped:

- a number that is not a finite float or a readable int: `"\\ufffe1e400"`, `"\\ufffeNaN"`
  (the literal text as the body wrote it);
- a string holding NUL or an unpaired surrogate, or starting with U+FFFE itself (so the marking
  stays unambiguous): `"\\ufffe\\"a\\\\u0000b\\""`.

`restore()` gives the original back (numbers as `decimal.Decimal`, exact). Everything else is
stored untouched, and the common case costs one `json.dumps` and two substring scans.
"""

from __future__ import annotations

import json
import math
import re
import sys
from decimal import Decimal
from typing import Any

MARKER = "\ufffe"
# Python refuses to read longer integers (CVE-2020-10735); such a number keeps its literal text.
_MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300
# What the canonical text may hold that the database cannot: unpaired surrogates, or the marker.
_SUSPECT = re.compile("[\ud800-\udfff\ufffe]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class NumberLiteral:
    """A JSON number Python cannot hold exactly as a float or int, kept as its literal text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NumberLiteral) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"NumberLiteral({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def _parse_float(text: str) -> float | NumberLiteral:
    value = float(text)
    return value if math.isfinite(value) else NumberLiteral(text)


def _parse_int(text: str) -> int | NumberLiteral:
    digits = len(text) - (text[:1] == "-")
    return int(text) if digits <= _MAX_INT_DIGITS else NumberLiteral(text)


def loads(content: str | bytes) -> Any:
    """Decode JSON, keeping numbers Python cannot hold (1e400, NaN, Infinity, a 5,000-digit
    integer) as `NumberLiteral` instead of `inf` or an exception."""
    return json.loads(
        content, parse_float=_parse_float, parse_int=_parse_int, parse_constant=NumberLiteral
    )


def _dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _mark_number(text: str) -> str:
    return MARKER + text


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        if _UNSTORABLE.search(value) or value.startswith(MARKER):
            return MARKER + json.dumps(value)  # ensure_ascii: \u0000 and \udXXX as escapes
        return value
    if isinstance(value, dict):
        return {_escape(k): _escape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escape(v) for v in value]
    if isinstance(value, NumberLiteral):
        return _mark_number(value.text)
    if isinstance(value, float) and not math.isfinite(value):
        return _mark_number("NaN" if math.isnan(value) else json.dumps(value))  # Infinity
    return value


def storable_json(payload: Any) -> tuple[str, bool]:
    """The payload's canonical JSON (sorted keys, compact, UTF-8) as the warehouse can store it,
    and whether any value had to be marked (see the module docstring)."""
    try:
        text = _dumps(payload)
    except (ValueError, TypeError):  # a non-finite float or a NumberLiteral
        return _dumps(_escape(payload)), True
    if "\\u0000" in text or _SUSPECT.search(text):
        escaped = _dumps(_escape(payload))
        return escaped, escaped != text
    return text, False


def restore(value: Any) -> Any:
    """A stored payload (or part of one) with every marked string turned back into its value."""
    if isinstance(value, str):
        if not value.startswith(MARKER):
            return value
        inner = value[len(MARKER) :]
        if inner.startswith('"'):
            return json.loads(inner)
        return Decimal(inner)
    if isinstance(value, dict):
        return {restore(k): restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v) for v in value]
    return value
