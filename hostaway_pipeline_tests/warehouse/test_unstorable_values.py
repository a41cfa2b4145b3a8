"""Values the database cannot store as they are: written on both write paths, exactly recoverable.

PostgreSQL JSONB refuses NaN, Infinity and U+0000, UTF-8 has no unpaired surrogates; Python turns
`1e400` into `inf`. Each is stored marked (see `hostaway_pipeline.client.payloads`), counted by row id,
and restored exactly; an unchanged payload stays unchanged. Below COPY_THRESHOLD rows the batch
goes through INSERT, from it on (PostgreSQL) through COPY: both are exercised.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hostaway_pipeline.client.payloads import MARKER, NumberLiteral, loads, restore, storable_json
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import COPY_THRESHOLD, upsert_rows
from hostaway_pipeline_tests.faults.bodies import nested, same_json

HOSTILE: dict[str, Any] = {
    "inf": math.inf,
    "minus_inf": -math.inf,
    "nan": math.nan,
    "overflow": NumberLiteral("1e400"),
    "huge_int": NumberLiteral("9" * 5000),
    "nul": "Guest\x00Name",
    "surrogate": "half \ud83d pair",
    "marker_text": MARKER + "looks marked",
    "key\x00with nul": 1,
    "deep": nested(150),
    "fine": {"price": 12.5, "name": "Zoë"},
}


def restored_equal(stored: Any, original: Any) -> bool:
    """`restore(stored)` equals `original`, NumberLiterals compared as exact Decimals."""
    back = restore(stored)
    if isinstance(original, NumberLiteral):
        return isinstance(back, Decimal) and back == Decimal(original.text)
    if isinstance(original, dict):
        return set(back) == set(original) and all(
            restored_equal(stored[k2], original[k])
            for k in original
            for k2 in stored
            if restore(k2) == k
        )
    return same_json(back, original)


@pytest.mark.parametrize("size", [3, COPY_THRESHOLD + 10], ids=["insert", "copy"])
def test_unstorable_values_are_stored_marked_counted_and_restored(
    engine: sa.Engine, size: int
) -> None:
    table = schema.reservations
    rows = [{"id": i, "payload": {"id": i, **HOSTILE}} for i in range(1, size + 1)]
    rows.append({"id": 10_000, "payload": {"id": 10_000, "plain": "text"}})
    with engine.begin() as conn:
        counts = upsert_rows(conn, table, 7, rows)
    assert counts.inserted == size + 1
    assert sorted(counts.sanitized) == list(range(1, size + 1))  # ids only, not the plain row
    with engine.connect() as conn:
        stored = {r.id: r.payload for r in conn.execute(sa.select(table.c.id, table.c.payload))}
    for i in range(1, size + 1):
        payload = stored[i]
        assert payload["overflow"] == MARKER + "1e400"
        assert payload["nan"] == MARKER + "NaN" and payload["minus_inf"] == MARKER + "-Infinity"
        assert "\x00" not in json.dumps(payload)
        assert restored_equal(payload, {"id": i, **HOSTILE})
    assert stored[10_000] == {"id": 10_000, "plain": "text"}
    with engine.begin() as conn:  # the same payloads again: nothing changed
        again = upsert_rows(conn, table, 7, rows)
    assert (again.unchanged, again.written, again.sanitized) == (size + 1, 0, ())


def test_storable_json_leaves_ordinary_payloads_alone() -> None:
    payload = {"b": [1, 2.5, None, True], "a": "Zoë \ufffe inside is fine", "c": {"d": "x"}}
    text, marked = storable_json(payload)
    assert not marked and json.loads(text) == payload
    assert text == json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_decoding_keeps_numbers_python_cannot_hold_as_their_literal_text() -> None:
    body = '{"a": 1e400, "b": -1E+999, "c": NaN, "d": -Infinity, "e": ' + "7" * 5000 + ', "f": 1.5}'
    value = loads(body)
    assert value["a"] == NumberLiteral("1e400") and value["b"] == NumberLiteral("-1E+999")
    assert value["c"] == NumberLiteral("NaN") and value["d"] == NumberLiteral("-Infinity")
    assert value["e"] == NumberLiteral("7" * 5000) and value["f"] == 1.5
    assert restore(json.loads(storable_json(value)[0]))["e"] == Decimal("7" * 5000)
