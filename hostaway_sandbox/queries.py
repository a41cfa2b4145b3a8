"""Read queries of the four GET endpoints: filtering, sorting, offset and afterId paging.

Callers hold the state lock. Limits: default 100, capped at `MAX_LIMIT` (500); a missing,
non-numeric or non-positive limit means the default. Unknown parameters are ignored, and an
unknown `sortOrder` means the endpoint's default order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clock import sort_int
from .data import Account

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Row = dict[str, Any]
Query = dict[str, str]


class QueryError(Exception):
    """A request the API answers with a fail envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Result:
    """One page: the rows, the total number of matching rows, and the effective limit/offset."""

    rows: list[Row]
    total: int
    limit: int
    offset: int


def _int(value: str | None, default: int | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def limit_offset(q: Query) -> tuple[int, int]:
    """The effective (limit, offset) of a request."""
    limit = _int(q.get("limit"), DEFAULT_LIMIT) or DEFAULT_LIMIT
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    offset = max(0, _int(q.get("offset"), 0) or 0)
    return limit, offset


def _range_pred(q: Query, start_key: str, end_key: str, field: str) -> Callable[[Row], bool] | None:
    """Inclusive range on a date/datetime field; a date end means the whole day."""
    start, end = q.get(start_key) or None, q.get(end_key) or None
    if start is None and end is None:
        return None
    lo = start if start and len(start) > 10 else (start + " 00:00:00" if start else None)
    hi = end if end and len(end) > 10 else (end + " 23:59:59" if end else None)

    def pred(row: Row) -> bool:
        v = row.get(field)
        if v is None:
            return False
        if len(v) == 10:
            v = v + " 00:00:00"
        return (lo is None or v >= lo) and (hi is None or v <= hi)

    return pred


def _eq_pred(q: Query, param: str, field: str) -> Callable[[Row], bool] | None:
    value = _int(q.get(param), None)
    if value is None:
        return None
    return lambda row: row.get(field) == value


def _combine(preds: list[Callable[[Row], bool] | None]) -> Callable[[Row], bool] | None:
    active = [p for p in preds if p is not None]
    if not active:
        return None
    return lambda row: all(p(row) for p in active)


LISTING_SORTS: dict[str, tuple[Callable[[Row], Any], bool]] = {
    "name": (lambda r: ((r.get("name") or "").lower(), r["id"]), False),
    "nameReversed": (lambda r: ((r.get("name") or "").lower(), r["id"]), True),
    "order": (lambda r: r["id"], False),
    "orderReversed": (lambda r: r["id"], True),
    "latestActivity": (lambda r: (r.get("latestActivityOn") or "", r["id"]), False),
    "latestActivityDesc": (lambda r: (r.get("latestActivityOn") or "", r["id"]), True),
}


def listings(acct: Account, q: Query) -> Result:
    """`GET /v1/listings`: filters latestActivityStart/End, city, country, match; offset paging."""
    limit, offset = limit_offset(q)
    preds = [_range_pred(q, "latestActivityStart", "latestActivityEnd", "latestActivityOn")]
    for param in ("city", "country"):
        if q.get(param):
            want = q[param].lower()
            preds.append(lambda r, p=param, w=want: (r.get(p) or "").lower() == w)  # type: ignore[misc]
    if q.get("match"):
        needle = q["match"].lower()
        preds.append(lambda r: needle in (r.get("name") or "").lower())
    pred = _combine(preds)
    rows = [r for r in acct.listings.values() if pred is None or pred(r)]
    key, rev = LISTING_SORTS.get(q.get("sortOrder", ""), LISTING_SORTS["order"])
    rows.sort(key=key, reverse=rev)
    return Result(rows[offset : offset + limit], len(rows), limit, offset)


def _desc(field: str) -> Callable[[Row], tuple[int, int]]:
    return lambda r: (-sort_int(r.get(field)), -r["id"])


def _asc(field: str) -> Callable[[Row], tuple[int, int]]:
    return lambda r: (sort_int(r.get(field)), r["id"])


#: Reservation orders as ascending keys (so keyset paging can bisect).
#: Default: updatedOn DESC, id DESC.
RESERVATION_SORTS: dict[str, Callable[[Row], tuple[int, int]]] = {
    "updatedOnDesc": _desc("updatedOn"),
    "updatedOn": _asc("updatedOn"),
    "latestActivity": _asc("latestActivityOn"),
    "latestActivityDesc": _desc("latestActivityOn"),
    "arrivalDate": _asc("arrivalDate"),
    "arrivalDateDesc": _desc("arrivalDate"),
}
DEFAULT_RESERVATION_SORT = "updatedOnDesc"


def sorted_reservations(acct: Account, order: str) -> tuple[list[tuple[int, int]], list[Row]]:
    """(keys, rows) of the account's reservations in `order`, cached until the next mutation."""
    cached = acct.sort_cache.get(order)
    if cached is not None and cached[0] == acct.res_version:
        return cached[1], cached[2]
    keyf = RESERVATION_SORTS[order]
    pairs = sorted(((keyf(r), r) for r in acct.reservations.values()), key=lambda p: p[0])
    keys = [p[0] for p in pairs]
    rows = [p[1] for p in pairs]
    acct.sort_cache[order] = (acct.res_version, keys, rows)
    return keys, rows


_RES_FILTERS = (
    "listingId",
    "channelId",
    "latestActivityStart",
    "latestActivityEnd",
    "arrivalStartDate",
    "arrivalEndDate",
    "departureStartDate",
    "departureEndDate",
)


def reservations(acct: Account, q: Query) -> Result:
    """`GET /v1/reservations`: `afterId` keyset (strictly after the anchor's current sort key),
    deprecated `offset` only without `afterId`; filters listingId, channelId, latestActivity*,
    arrival/departure ranges. The keyset follows whichever sortOrder is active."""
    limit, offset = limit_offset(q)
    order = q.get("sortOrder", "")
    if order not in RESERVATION_SORTS:
        order = DEFAULT_RESERVATION_SORT
    keys, rows = sorted_reservations(acct, order)
    fkey = (order, *(q.get(p, "") for p in _RES_FILTERS))
    pred = _combine(
        [
            _eq_pred(q, "listingId", "listingMapId"),
            _eq_pred(q, "channelId", "channelId"),
            _range_pred(q, "latestActivityStart", "latestActivityEnd", "latestActivityOn"),
            _range_pred(q, "arrivalStartDate", "arrivalEndDate", "arrivalDate"),
            _range_pred(q, "departureStartDate", "departureEndDate", "departureDate"),
        ]
    )
    after_id = _int(q.get("afterId"), None)
    start = offset
    if after_id is not None:
        anchor = acct.reservations.get(after_id)
        if anchor is None:
            raise QueryError(404, f"Reservation {after_id} (afterId) not found")
        pos = bisect_right(keys, RESERVATION_SORTS[order](anchor))
        if pred is None:
            start = pos
    if pred is None:
        return Result(rows[start : start + limit], len(rows), limit, start)
    cached = acct.filter_cache.get(fkey)
    if cached is not None and cached[0] == acct.res_version:
        idx = cached[1]
    else:
        idx = [i for i, r in enumerate(rows) if pred(r)]
        if len(acct.filter_cache) >= 16:
            acct.filter_cache.clear()
        acct.filter_cache[fkey] = (acct.res_version, idx)
    if after_id is not None:
        start = bisect_left(idx, pos)
    return Result([rows[i] for i in idx[start : start + limit]], len(idx), limit, start)


def conversations(acct: Account, q: Query) -> Result:
    """`GET /v1/conversations`: stable seed-shuffled (not id-sorted) order; reservationId filter."""
    limit, offset = limit_offset(q)
    convs = (acct.conversations[c] for c in acct.conv_order)
    rid = _int(q.get("reservationId"), None)
    picked = list(convs) if rid is None else [c for c in convs if c.reservation_id == rid]
    page = [c.payload() for c in picked[offset : offset + limit]]
    return Result(page, len(picked), limit, offset)


def messages(acct: Account, conversation_id: int, q: Query) -> Result:
    """`GET /v1/conversations/{id}/messages`: newest first (date DESC, id DESC); 404 elsewhere."""
    conv = acct.conversations.get(conversation_id)
    if conv is None:
        raise QueryError(404, f"Conversation {conversation_id} not found")
    limit, offset = limit_offset(q)
    msgs = conv.messages()
    msgs.sort(key=lambda m: (m["date"], m["id"]), reverse=True)
    return Result(msgs[offset : offset + limit], len(msgs), limit, offset)
