"""The sandbox's thread-safe store: seeded accounts, read accessors, queries and mutations.

Mutations stamp real "now" (UTC, whole seconds): reservation changes bump `updatedOn` and
`latestActivityOn`; a message bumps its conversation's `messageSentOn`/`messageReceivedOn`
and its reservation's `latestActivityOn`; listing changes bump `latestActivityOn`.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from . import queries
from .auth import TokenRegistry
from .catalog import CatalogStore, Endpoint
from .catalog_endpoints import default_endpoints
from .clock import BASE_TS, DAY, fmt_dt
from .conversations import Conversation
from .data import Account, IdAlloc, SeedSpec, make_account, make_listing, make_reservations, no_gc
from .data import seed_conversation as _seed_conversation

Row = dict[str, Any]


class SandboxState:
    """Every account's data plus its credentials; all methods are thread-safe."""

    def __init__(
        self,
        spec: SeedSpec,
        token_activation_delay_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.lock = threading.RLock()
        self.tokens = TokenRegistry(token_activation_delay_s, clock)
        # Where mutations read "now" (epoch seconds). Tests that need two changes stamped in the
        # same second, however slowly they run, pin it; stamps are whole seconds, as Hostaway's.
        self.wall_clock: Callable[[], float] = time.time
        # Called with (account_id, object, event, data) after each reservation/message mutation:
        # the webhook hub (hostaway_sandbox/webhooks.py) delivers it.
        self.on_change: Callable[[int, str, str, Row], None] | None = None
        self._ids = IdAlloc()
        self._accounts: dict[int, Account] = {}
        self.catalog = CatalogStore(spec.seed, self._today)
        for endpoint in default_endpoints():
            self.catalog.register(endpoint)
        with no_gc():
            for k in range(spec.accounts):
                self._add(spec.first_account_id + k)

    def _today(self) -> date:
        return datetime.fromtimestamp(int(self.wall_clock()), UTC).date()

    def _now_text(self) -> str:
        return fmt_dt(int(self.wall_clock()))

    def _add(self, account_id: int) -> Account:
        acct = make_account(self.spec, account_id, self._ids)
        self._accounts[account_id] = acct
        self.tokens.set_secret(account_id, acct.secret)
        return acct

    def _acct(self, account_id: int) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise KeyError(f"unknown account {account_id}") from None

    # -- reads ---------------------------------------------------------------------------
    def account_ids(self) -> list[int]:
        """Every account id, ascending."""
        with self.lock:
            return sorted(self._accounts)

    def secret(self, account_id: int) -> str:
        """The account's current client secret."""
        return self.tokens.secret(account_id)

    def listings(self, account_id: int) -> list[Row]:
        """Copies of the account's listings, by id."""
        with self.lock:
            acct = self._acct(account_id)
            return [copy.deepcopy(acct.listings[i]) for i in sorted(acct.listings)]

    def reservations(self, account_id: int) -> list[Row]:
        """Copies of the account's reservations, by id."""
        with self.lock:
            acct = self._acct(account_id)
            return [dict(acct.reservations[i]) for i in sorted(acct.reservations)]

    def conversations(self, account_id: int) -> list[Row]:
        """The account's conversations as the API returns them, by id."""
        with self.lock:
            acct = self._acct(account_id)
            return [acct.conversations[i].payload() for i in sorted(acct.conversations)]

    def messages(self, account_id: int, conversation_id: int | None = None) -> list[Row]:
        """Every message of the account (or of one conversation), by conversation then age."""
        with self.lock:
            acct = self._acct(account_id)
            ids = sorted(acct.conversations) if conversation_id is None else [conversation_id]
            return [m for c in ids for m in acct.conversations[c].messages()]

    def query(self, account_id: int, fn: Callable[..., queries.Result], *args: Any) -> Any:
        """Run a `queries` function under the lock; return a JSON-ready envelope."""
        with self.lock:
            res = fn(self._acct(account_id), *args)
            rows = [dict(r) for r in res.rows]
        pages = -(-res.total // res.limit) if res.total else 0
        return {
            "status": "success",
            "result": rows,
            "limit": res.limit,
            "offset": res.offset,
            "count": res.total,
            "page": res.offset // res.limit + 1,
            "totalPages": pages,
        }

    def one(self, account_id: int, kind: str, raw_id: str) -> Any:
        """`GET /v1/reservations/{id}` or `/v1/conversations/{id}`: the object, or 404."""
        with self.lock:
            acct = self._acct(account_id)
            oid = int(raw_id) if raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19 else -1
            if kind == "reservations" and oid in acct.reservations:
                result = dict(acct.reservations[oid])
            elif kind == "conversations" and oid in acct.conversations:
                result = acct.conversations[oid].payload()
            else:
                raise queries.QueryError(404, f"{kind[:-1].capitalize()} not found")
        return {"status": "success", "result": result}

    def _emit(self, account_id: int, object_: str, event: str, row: Row) -> None:
        if self.on_change is not None:
            self.on_change(account_id, object_, event, dict(row))

    # -- reservations --------------------------------------------------------------------
    def _touch_reservation(self, acct: Account, row: Row, now: str) -> None:
        row["updatedOn"] = now
        row["latestActivityOn"] = now
        acct.res_version += 1

    def update_reservation(self, account_id: int, reservation_id: int, **fields: Any) -> Row:
        """Change fields of a reservation; bumps updatedOn and latestActivityOn to now
        (unless given explicitly in `fields`)."""
        with self.lock:
            acct = self._acct(account_id)
            row = acct.reservations[reservation_id]
            self._touch_reservation(acct, row, self._now_text())
            row.update(fields)  # an explicit updatedOn/latestActivityOn wins over "now"
            self._emit(account_id, "reservation", "reservation.updated", row)
            return dict(row)

    def cancel_reservation(self, account_id: int, reservation_id: int) -> Row:
        """Cancel: status `cancelled`, cancellationDate = updatedOn = latestActivityOn = now."""
        now = self._now_text()
        with self.lock:
            acct = self._acct(account_id)
            row = acct.reservations[reservation_id]
            row["status"] = "cancelled"
            row["cancellationDate"] = now
            row["isPaid"] = 0
            self._touch_reservation(acct, row, now)
            self._emit(account_id, "reservation", "reservation.updated", row)
            return dict(row)

    def add_reservation(self, account_id: int, listing_id: int | None = None) -> Row:
        """Create a new reservation (inserted/updated now) on a listing (random if None)."""
        now = self._now_text()
        with self.lock:
            acct = self._acct(account_id)
            listing_ids = [listing_id] if listing_id is not None else list(acct.listings)
            spec = SeedSpec(conversation_ratio=0.0)
            before = set(acct.reservations)
            make_reservations(acct, 1, self._ids, spec, listing_ids)
            (rid,) = set(acct.reservations) - before
            row = acct.reservations[rid]
            row.update(reservationDate=now, insertedOn=now, updatedOn=now, latestActivityOn=now)
            row["status"] = "new"
            row["cancellationDate"] = None
            acct.res_version += 1
            self._emit(account_id, "reservation", "reservation.created", row)
            return dict(row)

    # -- conversations -------------------------------------------------------------------
    def add_conversation(self, account_id: int, reservation_id: int) -> Row:
        """Open an empty conversation for a reservation, at a seed-chosen place in the order."""
        with self.lock:
            acct = self._acct(account_id)
            row = acct.reservations[reservation_id]
            conv = _seed_conversation(acct, row, self._ids, acct.rng.getrandbits(48), 0, BASE_TS)
            acct.conv_order.insert(acct.rng.randrange(len(acct.conv_order) + 1), conv.id)
            return conv.payload()

    def add_message(
        self, account_id: int, conversation_id: int, body: str = "Hello!", incoming: bool = True
    ) -> Row:
        """Add a message now; bumps messageSentOn/ReceivedOn and reservation latestActivityOn."""
        now = self._now_text()
        with self.lock:
            acct = self._acct(account_id)
            conv: Conversation = acct.conversations[conversation_id]
            msg = conv.add(self._ids.take("message"), body, incoming, now)
            row = acct.reservations.get(conv.reservation_id)
            if row is not None:
                row["latestActivityOn"] = now
                acct.res_version += 1
            self._emit(account_id, "conversationMessage", "message.received", msg)
            return dict(msg)

    def edit_message(
        self, account_id: int, conversation_id: int, message_id: int, body: str = "(edited)"
    ) -> Row:
        """Edit a message in place: its updatedOn moves, its conversation's change fields don't."""
        now = self._now_text()
        with self.lock:
            conv: Conversation = self._acct(account_id).conversations[conversation_id]
            return conv.edit(message_id, body, now)

    def delete_conversation(self, account_id: int, conversation_id: int) -> None:
        """Remove a conversation and its messages (the listing and its messages 404 from now on)."""
        with self.lock:
            acct = self._acct(account_id)
            del acct.conversations[conversation_id]
            acct.conv_order.remove(conversation_id)

    # -- listings ------------------------------------------------------------------------
    def update_listing(self, account_id: int, listing_id: int, **fields: Any) -> Row:
        """Change fields of a listing; bumps latestActivityOn to now (unless given)."""
        with self.lock:
            row = self._acct(account_id).listings[listing_id]
            row["latestActivityOn"] = self._now_text()
            row.update(fields)  # an explicit latestActivityOn wins over "now"
            return copy.deepcopy(row)

    def archive_listing(self, account_id: int, listing_id: int) -> Row:
        """Set specialStatus `archived`; bumps latestActivityOn."""
        return self.update_listing(account_id, listing_id, specialStatus="archived")

    def delete_listing(self, account_id: int, listing_id: int) -> None:
        """Remove a listing; it disappears from the API."""
        with self.lock:
            del self._acct(account_id).listings[listing_id]

    def add_listing(self, account_id: int) -> Row:
        """Create a new listing (latestActivityOn now)."""
        with self.lock:
            acct = self._acct(account_id)
            lid = self._ids.take("listing")
            row = make_listing(acct.rng, lid, len(acct.listings), BASE_TS - DAY)
            row["specialStatus"] = None
            row["latestActivityOn"] = self._now_text()
            acct.listings[lid] = row
            return copy.deepcopy(row)

    # -- accounts and credentials --------------------------------------------------------
    def add_account(self) -> int:
        """Seed one more account (same counts as the spec); return its id."""
        with self.lock, no_gc():
            aid = max(self._accounts, default=self.spec.first_account_id - 1) + 1
            self._add(aid)
            return aid

    def revoke_tokens(self, account_id: int) -> int:
        """Revoke every token of the account; return how many."""
        return self.tokens.revoke_account(account_id)

    def revoke_token(self, token: str) -> bool:
        """Revoke one token."""
        return self.tokens.revoke(token)

    def rotate_secret(self, account_id: int) -> str:
        """New client secret; the old one stops working; existing tokens stay valid."""
        return self.tokens.rotate(account_id)

    # -- catalog endpoints (catalog.py) --------------------------------------------------
    def register_endpoint(self, endpoint: Endpoint) -> None:
        """Serve one more read endpoint (or replace one of the same name) from now on."""
        with self.lock:
            self.catalog.register(endpoint)

    def catalog_answer(self, account_id: int, path: str, query: dict[str, str]) -> Any:
        """The envelope of a catalog GET, or None when no catalog endpoint serves `path`."""
        with self.lock:
            found = self.catalog.match(path)
            if found is None:
                return None
            return self.catalog.answer(found[0], self._acct(account_id), found[1], query)

    def _ep(self, name: str) -> Endpoint:
        try:
            return self.catalog.endpoints[name]
        except KeyError:
            raise KeyError(f"unknown catalog endpoint {name}") from None

    def catalog_rows(
        self, name: str, account_id: int, parent_id: int | None = None, /, **query: str
    ) -> list[Row]:
        """What `GET` of the endpoint returns for the account (and parent), as rows."""
        with self.lock:
            ep = self._ep(name)
            body = self.catalog.answer(ep, self._acct(account_id), parent_id, dict(query))
            result = body["result"]
            if isinstance(result, list):
                return [dict(r) for r in result]
            if ep.shape == "map":
                return [{"code": k, "value": v} for k, v in result.items()]
            return [] if result is None else [dict(result)]

    def update_object(
        self,
        name: str,
        account_id: int,
        key: Any,
        parent_id: int | None = None,
        /,
        **fields: Any,
    ) -> Row:
        """Change fields of one catalog row (key: a value or a tuple); stamps `touch` fields."""
        with self.lock:
            ep = self._ep(name)
            keys = key if isinstance(key, tuple) else (key,)
            acct = self._acct(account_id)
            return self.catalog.update(ep, acct, keys, parent_id, self._now_text(), **fields)

    def delete_object(
        self, name: str, account_id: int, key: Any, parent_id: int | None = None
    ) -> None:
        """Remove one catalog row; it disappears from the API."""
        with self.lock:
            keys = key if isinstance(key, tuple) else (key,)
            self.catalog.delete(self._ep(name), self._acct(account_id), keys, parent_id)

    def add_object(self, name: str, account_id: int, row: Row, parent_id: int | None = None) -> Row:
        """Insert one catalog row (a missing id gets the next one); stamps `touch` fields."""
        with self.lock:
            ep, acct, now = self._ep(name), self._acct(account_id), self._now_text()
            return self.catalog.add(ep, acct, dict(row), parent_id, now)
