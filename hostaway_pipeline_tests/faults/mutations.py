"""Random changes of the kinds Hostaway sees, made to the sandbox between or during syncs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hostaway_sandbox import SandboxServer


@dataclass
class Changes:
    """What `mutate` did (listing deletions only show after a full sync)."""

    ops: int = 0
    deleted_listings: set[int] = field(default_factory=set)


def mutate(server: SandboxServer, account_id: int, rng: random.Random, n: int,
           changes: Changes, deletes: bool = True) -> None:  # fmt: skip
    """`n` random changes of the kinds Hostaway sees: updates, cancellations, new rows, messages."""
    st = server.state
    for _ in range(n):
        op = rng.choice(
            ["update_reservation", "cancel", "add_reservation", "message", "message", "reply",
             "add_conversation", "update_listing", "add_listing"]
            + (["delete_listing"] if deletes else [])
        )  # fmt: skip
        reservations = st.reservations(account_id)
        conversations = st.conversations(account_id)
        listings = st.listings(account_id)
        if op == "update_reservation":
            rid = rng.choice(reservations)["id"]
            st.update_reservation(account_id, rid, numberOfGuests=rng.randint(1, 9))
        elif op == "cancel":
            st.cancel_reservation(account_id, rng.choice(reservations)["id"])
        elif op == "add_reservation":
            st.add_reservation(account_id)
        elif op in ("message", "reply") and conversations:
            cid = rng.choice(conversations)["id"]
            st.add_message(account_id, cid, body=f"m{rng.random()}", incoming=op == "message")
        elif op == "add_conversation":
            st.add_conversation(account_id, rng.choice(reservations)["id"])
        elif op == "update_listing":
            st.update_listing(account_id, rng.choice(listings)["id"], price=rng.randint(50, 900))
        elif op == "add_listing":
            st.add_listing(account_id)
        elif op == "delete_listing" and len(listings) > 2:
            gone = rng.choice(listings)["id"]
            st.delete_listing(account_id, gone)
            changes.deleted_listings.add(gone)
        changes.ops += 1
