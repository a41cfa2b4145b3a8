"""The webhook routes, each declared once: which (object, event) Hostaway posts this version
applies, and the entity table an event's `data` is a row of.

The receiver's known events (webhooks/envelope.py), the apply's entity per event
(webhooks/apply.py) and the erasure of pending envelopes (privacy/erasure.py) all read this
table. It sits in the catalog, below both webhooks/ and privacy/, so both may import it. A new
event kind is one entry here (and its apply rule in webhooks/apply.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from hostaway_pipeline.catalog.core import MESSAGES, RESERVATIONS


@dataclass(frozen=True)
class Route:
    object: str  # the envelope's `object`
    events: tuple[str, ...]  # its `event`s this version applies
    entity: str  # the entity table `data` is a row of


ROUTES: tuple[Route, ...] = (
    Route("reservation", ("reservation.created", "reservation.updated"), RESERVATIONS.name),
    Route("conversationMessage", ("message.received",), MESSAGES.name),
)

# (object, event) pairs applied; any other well-formed event is stored and marked `ignored`.
KNOWN_EVENTS = frozenset((r.object, event) for r in ROUTES for event in r.events)
# The entity table of an event's `data`, by the event's object.
ENTITY_OF: dict[str, str] = {r.object: r.entity for r in ROUTES}
