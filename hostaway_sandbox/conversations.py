"""Conversations with lazily generated seeded messages (so 100k-reservation seeds stay small).

A seeded conversation keeps a few integers (`cseed`, count, first id, start time, gap) and rebuilds
its messages on demand with a cheap integer hash; messages added at runtime are stored as dicts.
"""

from __future__ import annotations

from typing import Any

from .clock import fmt_dt

_MASK = 0xFFFFFFFFFFFFFFFF

GUEST_BODIES = (
    "Hi! What time is check-in?",
    "Is there parking near the apartment?",
    "We will arrive around 9pm, is that ok?",
    "Can we bring a small dog?",
    "Thanks, the place looks great!",
    "The wifi password does not seem to work.",
    "Could we check out a bit later, around 1pm?",
    "Where do we leave the keys?",
    "Is there a washing machine?",
    "We had a wonderful stay, thank you!",
)
HOST_BODIES = (
    "Hi {name}, thanks for booking! Check-in is from 3pm.",
    "Hello {name}, there is free street parking right outside.",
    "No problem {name}, the lockbox code will be sent on the day of arrival.",
    "Hi {name}, small pets are welcome for a fee of 20.",
    "Glad you like it, {name}! Let us know if you need anything.",
    "Sorry about that {name}, the wifi password is on the fridge.",
    "Late check-out until 1pm is fine, {name}.",
    "Please leave the keys on the kitchen table, {name}.",
    "Yes {name}, the washer is in the bathroom.",
    "Thank you {name}, it was a pleasure hosting you!",
)


def mix(a: int, b: int) -> int:
    """A splitmix64-style hash of two ints: the deterministic source for lazy messages."""
    x = (a * 0x9E3779B97F4A7C15 + (b + 1) * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & _MASK
    x ^= x >> 29
    return x


class Conversation:
    """One conversation: API fields plus the parameters of its seeded messages."""

    __slots__ = (
        "account_id",
        "added",
        "cseed",
        "edits",
        "extra",
        "first_id",
        "gap",
        "guest_email",
        "guest_first",
        "has_unread",
        "id",
        "incoming_first",
        "listing_id",
        "n_seeded",
        "received_on",
        "recipient_name",
        "reservation_id",
        "sent_on",
        "t0",
        "type",
    )

    def __init__(
        self,
        *,
        conv_id: int,
        account_id: int,
        listing_id: int,
        reservation_id: int,
        recipient_name: str,
        guest_first: str,
        guest_email: str,
        conv_type: str,
        cseed: int,
        n_seeded: int,
        first_id: int,
        t0: int,
        gap: int,
    ) -> None:
        self.id = conv_id
        self.account_id = account_id
        self.listing_id = listing_id
        self.reservation_id = reservation_id
        self.recipient_name = recipient_name
        self.guest_first = guest_first
        self.guest_email = guest_email
        self.type = conv_type
        self.cseed = cseed
        self.n_seeded = n_seeded
        self.first_id = first_id
        self.t0 = t0
        self.gap = gap
        self.incoming_first = bool((cseed >> 3) & 1) or n_seeded == 1
        self.has_unread = 0
        self.added: list[dict[str, Any]] | None = None
        self.extra: dict[str, Any] | None = None
        self.edits: dict[int, dict[str, Any]] | None = None  # seeded message id -> changed fields
        self.sent_on: str | None = None
        self.received_on: str | None = None
        self._init_summary()

    # -- seeded messages -------------------------------------------------------------------
    def _incoming(self, i: int) -> bool:
        return ((i & 1) == 0) == self.incoming_first

    def _ts(self, i: int) -> int:
        return self.t0 + i * self.gap + mix(self.cseed, i) % max(1, self.gap // 2)

    def _init_summary(self) -> None:
        n = self.n_seeded
        if n == 0:
            return
        last = n - 1
        last_in = last if self._incoming(last) else last - 1
        last_out = last if not self._incoming(last) else last - 1
        self.received_on = fmt_dt(self._ts(last_in)) if last_in >= 0 else None
        self.sent_on = fmt_dt(self._ts(last_out)) if last_out >= 0 else None
        self.has_unread = int(self._incoming(last) and self.cseed % 5 == 0)

    def seeded_message(self, i: int) -> dict[str, Any]:
        """Build seeded message number `i` (0-based, oldest first)."""
        h = mix(self.cseed, i + 1000)
        incoming = self._incoming(i)
        if incoming:
            body = GUEST_BODIES[h % len(GUEST_BODIES)]
        else:
            body = HOST_BODIES[h % len(HOST_BODIES)].format(name=self.guest_first)
        msg_id = self.first_id + i
        date = fmt_dt(self._ts(i))
        attachments: list[dict[str, Any]] = []
        if h % 11 == 0:
            attachments.append(
                {
                    "id": msg_id * 10 + 1,
                    "name": f"photo_{msg_id}.jpg",
                    "url": f"https://files.sandbox.hostaway.invalid/{msg_id}/photo.jpg",
                    "mimeType": "image/jpeg",
                }
            )
        unseen = incoming and i == self.n_seeded - 1 and self.cseed % 5 == 0
        msg = self._message(msg_id, body, incoming, date, attachments, seen=not unseen)
        if self.edits and msg_id in self.edits:
            msg.update(self.edits[msg_id])
        return msg

    def _message(
        self,
        msg_id: int,
        body: str,
        incoming: bool,
        date: str,
        attachments: list[dict[str, Any]],
        *,
        seen: bool,
    ) -> dict[str, Any]:
        return {
            "id": msg_id,
            "accountId": self.account_id,
            "listingMapId": self.listing_id,
            "reservationId": self.reservation_id,
            "conversationId": self.id,
            "communicationType": "email" if self.type == "email" else "channel",
            "body": body,
            "isIncoming": int(incoming),
            "isSeen": int(seen),
            "status": "sent",
            "date": date,
            "sentChannelDate": date,
            "insertedOn": date,
            "updatedOn": date,
            "attachments": attachments,
        }

    # -- runtime -------------------------------------------------------------------------
    def add(self, msg_id: int, body: str, incoming: bool, date: str) -> dict[str, Any]:
        """Append a runtime message and bump messageSentOn/messageReceivedOn."""
        msg = self._message(msg_id, body, incoming, date, [], seen=not incoming)
        if self.added is None:
            self.added = []
        self.added.append(msg)
        if incoming:
            self.received_on = date
            self.has_unread = 1
        else:
            self.sent_on = date
            self.has_unread = 0
        return msg

    def edit(self, msg_id: int, body: str, now: str) -> dict[str, Any]:
        """Change a message's body in place (its updatedOn moves; messageSentOn/ReceivedOn don't)."""
        change = {"body": body, "updatedOn": now}
        for msg in self.added or ():
            if msg["id"] == msg_id:
                msg.update(change)
                return dict(msg)
        if not self.first_id <= msg_id < self.first_id + self.n_seeded:
            raise KeyError(f"message {msg_id} is not in conversation {self.id}")
        if self.edits is None:
            self.edits = {}
        self.edits[msg_id] = change
        return self.seeded_message(msg_id - self.first_id)

    def messages(self) -> list[dict[str, Any]]:
        """Every message, oldest first (seeded ones rebuilt, copies of runtime ones)."""
        out = [self.seeded_message(i) for i in range(self.n_seeded)]
        out.extend(dict(m) for m in self.added or ())
        return out

    def count(self) -> int:
        """Number of messages."""
        return self.n_seeded + len(self.added or ())

    def latest(self) -> dict[str, Any] | None:
        """The newest message."""
        if self.added:
            return dict(self.added[-1])
        return self.seeded_message(self.n_seeded - 1) if self.n_seeded else None

    def payload(self) -> dict[str, Any]:
        """The conversation exactly as `GET /v1/conversations` returns it."""
        latest = self.latest()
        out: dict[str, Any] = {
            "id": self.id,
            "listingMapId": self.listing_id,
            "reservationId": self.reservation_id,
            "type": self.type,
            "recipientName": self.recipient_name,
            "guestEmail": self.guest_email,
            "hasUnreadMessages": self.has_unread,
            "isArchived": 0,
            "messageSentOn": self.sent_on,
            "messageReceivedOn": self.received_on,
            "conversationMessages": [latest] if latest else [],
        }
        if self.extra:
            out.update(self.extra)
        return out
