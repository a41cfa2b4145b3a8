"""Data-driven read endpoints: one frozen `Endpoint` per path, served by `CatalogStore`.

An endpoint says its path (children name their parent with `{id}`: `/v1/listings/{id}/calendar`),
its paging (`offset`: limit/offset with `count`; `none`), its shape (`list`, `object`: a single
object, `map`: a `{code: value}` object), its scope (`account` or
`global`: the same rows for every account) and a seed function. A `map` row is
`{"code": key, "value": value}`. Rows are seeded lazily, on the
first read or mutation of an (endpoint, account, parent) triple, from an RNG named after that
triple, so the order in which clients read never changes what they get; seeding reads the
account's listings/reservations as they are at that moment. Daily endpoints (the calendar) seed
one row per date on demand, from an RNG named after the date, and filter by a date window.

Callers of `CatalogStore` hold the state lock.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from .data import Account
from .queries import QueryError, Result, limit_offset

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class SeedContext:
    """What a seed function sees: its own RNG, the account (None when global) and the parent."""

    rng: random.Random
    account: Account | None
    parent: Row | None
    account_id: int | None

    @property
    def listings(self) -> list[Row]:
        """The account's listings, by id (empty for global endpoints)."""
        acct = self.account
        return [acct.listings[i] for i in sorted(acct.listings)] if acct else []

    @property
    def reservations(self) -> list[Row]:
        """The account's reservations, by id (empty for global endpoints)."""
        acct = self.account
        return [acct.reservations[i] for i in sorted(acct.reservations)] if acct else []

    def id(self, k: int, base: int = 0) -> int:
        """A deterministic id: unique per endpoint for (account or parent, k)."""
        owner = (self.parent or {}).get("id") or self.account_id or 0
        return base + owner * 1000 + k


def money(value: Any, default: float = 0.0) -> float:
    """A parent's amount as a float for derived rows; text that is no number (tests plant hostile
    values in parents) derives from `default`, as Hostaway would not compute with it either."""
    if isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


Seed = Callable[[SeedContext], list[Row]]
DaySeed = Callable[[SeedContext, str], Row]


@dataclass(frozen=True)
class Endpoint:
    """One read endpoint of the API, described as data."""

    name: str  # e.g. "listing_calendar"; unique in a catalog
    path: str  # "/v1/bedTypes", "/v1/listings/{id}/calendar"
    seed: Seed | None = None  # every row of one (account, parent); None: `day_seed`
    paging: Literal["offset", "none"] = "none"
    shape: Literal["list", "object", "map"] = "list"
    scope: Literal["account", "global"] = "account"
    parent: Literal["listing", "reservation"] | None = None  # what `{id}` names
    key: tuple[str, ...] = ("id",)
    day_seed: DaySeed | None = None  # daily rows: one per date, keyed by `date`
    window: tuple[str, str] = ("startDate", "endDate")  # daily endpoints' date params
    filters: tuple[tuple[str, str], ...] = ()  # (query param, field): equality filters
    touch: tuple[str, ...] = ()  # fields an update stamps with "now" (e.g. "updatedOn")

    def __post_init__(self) -> None:
        if (self.seed is None) == (self.day_seed is None):
            raise ValueError(f"endpoint {self.name}: give exactly one of seed and day_seed")
        if ("{id}" in self.path) != (self.parent is not None):
            raise ValueError(f"endpoint {self.name}: `{{id}}` in the path iff parent is set")
        if self.day_seed is not None and self.key != ("date",):
            raise ValueError(f"endpoint {self.name}: daily rows are keyed by ('date',)")
        if self.scope == "global" and self.parent is not None:
            raise ValueError(f"endpoint {self.name}: a global endpoint has no parent")

    @property
    def pattern(self) -> re.Pattern[str]:
        """The path as a regex; `{id}` captures digits."""
        return re.compile("^" + re.escape(self.path).replace(r"\{id\}", r"(\d+)") + "$")


#: Daily windows: a missing startDate is today, a missing endDate is startDate + 30 days, and a
#: window may span at most this many days (longer or reversed windows answer 400).
MAX_WINDOW_DAYS = 3 * 366
DEFAULT_WINDOW_DAYS = 30


def _parse_day(value: str | None, default: date, name: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise QueryError(400, f"{name} must be a date YYYY-MM-DD") from None


@dataclass
class CatalogStore:
    """Registered endpoints and their lazily seeded rows."""

    seed: int
    today: Callable[[], date]
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    rows: dict[tuple[str, int | None, int | None], dict[Key, Row | None]] = field(
        default_factory=dict
    )

    def register(self, endpoint: Endpoint) -> None:
        """Add (or replace, by name) an endpoint; replacing forgets its seeded rows."""
        clash = [e.name for e in self.endpoints.values() if e.path == endpoint.path]
        if clash and clash != [endpoint.name]:
            raise ValueError(f"path {endpoint.path} is already served by {clash[0]}")
        self.endpoints[endpoint.name] = endpoint
        for k in [k for k in self.rows if k[0] == endpoint.name]:
            del self.rows[k]

    def match(self, path: str) -> tuple[Endpoint, int | None] | None:
        """The endpoint serving `path` and its parent id, or None."""
        for ep in self.endpoints.values():
            m = ep.pattern.match(path)
            if m:
                return ep, int(m.group(1)) if ep.parent else None
        return None

    # -- storage --------------------------------------------------------------------------
    def _parent(self, ep: Endpoint, acct: Account, parent_id: int | None) -> Row | None:
        if ep.parent is None:
            return None
        found = (acct.listings if ep.parent == "listing" else acct.reservations).get(
            parent_id or -1
        )
        if found is None:
            raise QueryError(404, f"{ep.parent.capitalize()} {parent_id} not found")
        return found

    def _ctx(self, ep: Endpoint, acct: Account, parent_id: int | None, tag: str) -> SeedContext:
        aid = None if ep.scope == "global" else acct.id
        parent = self._parent(ep, acct, parent_id)
        rng = random.Random(f"{self.seed}:{ep.name}:{aid}:{parent_id}:{tag}")
        return SeedContext(rng, None if aid is None else acct, parent, aid)

    def table(self, ep: Endpoint, acct: Account, parent_id: int | None) -> dict[Key, Row | None]:
        """The stored rows of (endpoint, account, parent), seeding them on first use."""
        aid = None if ep.scope == "global" else acct.id
        slot = (ep.name, aid, parent_id)
        self._parent(ep, acct, parent_id)  # 404 when the parent is gone, cached or not
        found = self.rows.get(slot)
        if found is not None:
            return found
        got: dict[Key, Row | None] = {}
        if ep.seed is not None:
            for row in ep.seed(self._ctx(ep, acct, parent_id, "")):
                got[tuple(row.get(k) for k in ep.key)] = row
        self.rows[slot] = got
        return got

    def _days(self, ep: Endpoint, acct: Account, parent_id: int | None, q: dict[str, str]) -> Any:
        start = _parse_day(q.get(ep.window[0]), self.today(), ep.window[0])
        end = _parse_day(
            q.get(ep.window[1]), start + timedelta(days=DEFAULT_WINDOW_DAYS), ep.window[1]
        )
        span = (end - start).days
        if span < 0 or span > MAX_WINDOW_DAYS:
            raise QueryError(400, f"{ep.window[1]} must be 0 to {MAX_WINDOW_DAYS} days after start")
        table = self.table(ep, acct, parent_id)
        assert ep.day_seed is not None
        out: list[Row] = []
        for n in range(span + 1):
            text = (start + timedelta(days=n)).isoformat()
            key: Key = (text,)
            row = table.get(key)
            if row is None and key not in table:
                row = ep.day_seed(self._ctx(ep, acct, parent_id, text), text)
                table[key] = row
            if row is not None:  # a deleted day stays None: it is gone from the API
                out.append(row)
        return out

    # -- reads ----------------------------------------------------------------------------
    def answer(self, ep: Endpoint, acct: Account, parent_id: int | None, q: dict[str, str]) -> Any:
        """The JSON-ready success envelope of one GET."""
        if ep.day_seed is not None:
            rows = self._days(ep, acct, parent_id, q)
        else:
            rows = [r for r in self.table(ep, acct, parent_id).values() if r is not None]
        for param, fld in ep.filters:
            want = q.get(param)
            if want not in (None, ""):
                wanted = set(want.split(","))
                rows = [r for r in rows if str(r.get(fld)) in wanted]
        rows = [dict(r) for r in rows]
        return envelope(ep, rows, q)

    # -- mutations (tests) --------------------------------------------------------------------
    def update(
        self,
        ep: Endpoint,
        acct: Account,
        key: Key,
        parent_id: int | None,
        now: str,
        /,
        **fields: Any,
    ) -> Row:
        """Change fields of one row (seeding a daily row first); stamps `ep.touch` with now."""
        table = self.table(ep, acct, parent_id)
        row = table.get(key)
        if row is None and ep.day_seed is not None and key not in table:
            row = table[key] = ep.day_seed(self._ctx(ep, acct, parent_id, key[0]), key[0])
        if row is None:
            raise KeyError(f"{ep.name}: no row {key}")
        row.update({t: now for t in ep.touch})
        row.update(fields)  # explicit stamps win over "now"
        return dict(row)

    def delete(self, ep: Endpoint, acct: Account, key: Key, parent_id: int | None) -> None:
        """Remove one row: it disappears from the API (a daily row stays gone)."""
        table = self.table(ep, acct, parent_id)
        if ep.day_seed is not None:
            table[key] = None
        elif table.pop(key, None) is None:
            raise KeyError(f"{ep.name}: no row {key}")

    def add(self, ep: Endpoint, acct: Account, row: Row, parent_id: int | None, now: str) -> Row:
        """Insert a row (a missing `id` in the key gets max id + 1); stamps `ep.touch`."""
        table = self.table(ep, acct, parent_id)
        new = {**{t: now for t in ep.touch}, **row}
        if "id" in ep.key and new.get("id") is None:
            new["id"] = 1 + max((r["id"] for r in table.values() if r is not None), default=0)
        table[tuple(new.get(k) for k in ep.key)] = new
        return dict(new)


def envelope(ep: Endpoint, rows: list[Row], q: dict[str, str]) -> dict[str, Any]:
    """The success envelope for `rows` in the endpoint's shape and paging."""
    if ep.shape == "object":
        return {"status": "success", "result": rows[0] if rows else None}
    if ep.shape == "map":
        return {"status": "success", "result": {r["code"]: r["value"] for r in rows}}
    if ep.paging == "none":
        return {"status": "success", "result": rows}
    limit, offset = limit_offset(q)
    res = Result(rows[offset : offset + limit], len(rows), limit, offset)
    return {
        "status": "success",
        "result": res.rows,
        "limit": res.limit,
        "offset": res.offset,
        "count": res.total,
        "page": res.offset // res.limit + 1,
        "totalPages": -(-res.total // res.limit) if res.total else 0,
    }
