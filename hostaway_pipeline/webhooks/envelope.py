"""The unified-webhook envelope: validation, the nested `payload.data` form, the event identity.

Hostaway posts `{"object": "reservation"|"conversationMessage", "event": ..., "accountId": ...,
"data": {...}}`; some captures nest the rest as `{"payload": {"data": {...}}}` (or the whole
envelope under `payload`). Both normalise to one `Envelope`. Messages of `EnvelopeError` name
fields, never their values (they may hold guest data).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Events this version applies; any other (well-formed) event is stored and answered 200, as
# Hostaway asks ("we will be adding more events"), and marked `ignored` when processed.
KNOWN_EVENTS = {
    ("reservation", "reservation.created"),
    ("reservation", "reservation.updated"),
    ("conversationMessage", "message.received"),
}


class EnvelopeError(ValueError):
    """The body is not a unified-webhook envelope (answered 400: Hostaway does not retry it)."""


@dataclass(frozen=True)
class Envelope:
    object: str
    event: str
    account_id: int
    data: dict[str, Any]

    @property
    def entity_id(self) -> int | None:
        value = self.data.get("id")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def known(self) -> bool:
        return (self.object, self.event) in KNOWN_EVENTS

    def canonical(self) -> str:
        """The envelope as canonical JSON: what is stored, and what the identity hashes."""
        return json.dumps(
            {"object": self.object, "event": self.event, "accountId": self.account_id,
             "data": self.data},
            sort_keys=True, separators=(",", ":"), allow_nan=False,
        )  # fmt: skip

    def key(self) -> str:
        """The event's identity: equal deliveries of one update share it."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def _account_id(value: Any) -> int:
    if isinstance(value, bool):
        raise EnvelopeError("accountId must be a positive integer")
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        value = int(value)
    if not isinstance(value, int) or not 0 < value < 2**63:
        raise EnvelopeError("accountId must be a positive integer")
    return value


def _reject_constants(token: str) -> float:
    raise EnvelopeError(f"non-standard JSON number {token}")


def parse(body: bytes) -> Envelope:
    """The envelope of a request body, or EnvelopeError naming what is wrong."""
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_reject_constants)
    except EnvelopeError:
        raise
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep, a 5000-digit number
        raise EnvelopeError("the body is not UTF-8 JSON") from None
    if not isinstance(doc, dict):
        raise EnvelopeError("the body must be a JSON object")
    nested = doc.get("payload")
    if "data" not in doc and isinstance(nested, Mapping):
        # {"payload": {...envelope...}} or {"object": ..., "payload": {"data": {...}}}
        doc = {**{k: v for k, v in doc.items() if k != "payload"}, **nested}
    missing = [k for k in ("object", "event", "accountId", "data") if k not in doc]
    if missing:
        raise EnvelopeError(f"missing field(s) {', '.join(missing)}")
    object_, event, data = doc["object"], doc["event"], doc["data"]
    if not isinstance(object_, str) or not object_ or len(object_) > 100:
        raise EnvelopeError("object must be a non-empty string")
    if not isinstance(event, str) or not event or len(event) > 100:
        raise EnvelopeError("event must be a non-empty string")
    if not isinstance(data, dict):
        raise EnvelopeError("data must be a JSON object")
    return Envelope(object_, event, _account_id(doc["accountId"]), data)
