"""The unified-webhook envelope: validation, the nested `payload.data` form, the event identity.

Hostaway posts `{"object": "reservation"|"conversationMessage", "event": ..., "accountId": ...,
"data": {...}}`; some captures nest the rest as `{"payload": {"data": {...}}}` (or the whole
envelope under `payload`). Both normalise to one `Envelope`. Messages of `EnvelopeError` name
fields, never their values (they may hold guest data).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hostaway_pipeline.accounts.ids import AccountIdError, parse_account_id
from hostaway_pipeline.catalog import webhook_routes

# `object` and `event` are names ("reservation", "message.received"): no space, control or
# non-ASCII character reaches a log line or the inbox.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")
_MAX_INT_DIGITS = 40  # longer integers are no id, count or amount Hostaway sends

# Events this version applies; any other (well-formed) event is stored and answered 200, as
# Hostaway asks ("we will be adding more events"), and marked `ignored` when processed.
# (catalog/webhook_routes.py holds them.)
KNOWN_EVENTS = webhook_routes.KNOWN_EVENTS


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
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
        return value if ok else None

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
    """A JSON integer or a canonical ASCII-digit string ("²", "١٢", "0012" are refused)."""
    try:
        return parse_account_id(value)
    except AccountIdError:
        raise EnvelopeError("accountId must be a positive integer") from None


def _reject_constants(token: str) -> float:
    raise EnvelopeError(f"non-standard JSON number {token}")


def _finite(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e400
        raise EnvelopeError("a JSON number out of range")
    return value


def _bounded_int(token: str) -> int:
    if len(token.lstrip("-")) > _MAX_INT_DIGITS:
        raise EnvelopeError("a JSON integer out of range")
    return int(token)


def parse(body: bytes) -> Envelope:
    """The envelope of a request body, or EnvelopeError naming what is wrong."""
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_reject_constants,
                         parse_float=_finite, parse_int=_bounded_int)  # fmt: skip
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
    if not isinstance(object_, str) or not _NAME.fullmatch(object_):
        raise EnvelopeError("object must be a name (ASCII letters, digits, '_.:-')")
    if not isinstance(event, str) or not _NAME.fullmatch(event):
        raise EnvelopeError("event must be a name (ASCII letters, digits, '_.:-')")
    if not isinstance(data, dict):
        raise EnvelopeError("data must be a JSON object")
    return Envelope(object_, event, _account_id(doc["accountId"]), data)
