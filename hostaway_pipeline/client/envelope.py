"""Validation of response bodies: the `{status, result, count}` envelope, records, token replies.

Functions raise `BodyProblem` (the body breaks the protocol; the transport may retry it) or
`FailedEnvelope` (a well-formed `status: fail` answer; not retried). The transport turns both into
typed errors that carry the account, endpoint and request id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

TOKEN_PATH = "/accessTokens"


class BodyProblem(Exception):
    """The body is not what the protocol promises; str(self) says how (never echoes values)."""


class FailedEnvelope(Exception):
    """A `{"status": "fail", "result"|"message": ...}` answer; str(self) is the server's message."""


def is_record_id(value: object) -> bool:
    """True for an int id that fits a 64-bit integer (a bool is not an id, though Python says it
    is an int)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def check_envelope(body: Any) -> dict[str, Any]:
    """The envelope, if it is a success envelope with a `result`."""
    if not isinstance(body, dict):
        raise BodyProblem(f"expected a JSON object envelope, got a JSON {type(body).__name__}")
    status = body.get("status")
    if status == "fail":
        message = body.get("message", body.get("result"))
        raise FailedEnvelope(str(message) if message is not None else "no message")
    if status != "success":
        raise BodyProblem(f"envelope status is {status!r}, expected 'success'")
    if "result" not in body:
        raise BodyProblem("envelope has no 'result'")
    return body


def check_list_envelope(body: Any) -> dict[str, Any]:
    """A success envelope whose `result` is a list of records that each have an int `id`."""
    env = check_envelope(body)
    result = env["result"]
    if not isinstance(result, list):
        raise BodyProblem(f"'result' is a {type(result).__name__}, expected a list of records")
    for index, record in enumerate(result):
        if not isinstance(record, dict):
            raise BodyProblem(f"record {index} is a {type(record).__name__}, expected an object")
        if not is_record_id(record.get("id")):
            found = "missing" if "id" not in record else f"a {type(record['id']).__name__}"
            if type(record.get("id")) is int:
                found = "an integer beyond 64 bits"
            raise BodyProblem(f"record {index} has no integer 'id' ({found})")
    envelope_count(env)  # a count no server could mean is a protocol break here, not in paging
    return env


Shape = Literal["list", "object", "map"]


def shaped_envelope(shape: Shape, require_id: bool) -> Callable[[Any], dict[str, Any]]:
    """A parser for an unpaged endpoint: the envelope with `result` made a list of records.

    list: the objects as sent; object: [the object] (null or {} is no record); map: one record
    {"code": key, "value": value} per entry. `require_id`: every record has an integer `id`.
    """

    def parse(body: Any) -> dict[str, Any]:
        env = check_envelope(body)
        result = env["result"]
        if shape == "map":
            if not isinstance(result, dict):
                raise BodyProblem(f"'result' is a {type(result).__name__}, expected a map")
            records: Any = [{"code": str(k), "value": v} for k, v in result.items()]
        elif shape == "object":
            if result is not None and not isinstance(result, dict):
                raise BodyProblem(f"'result' is a {type(result).__name__}, expected an object")
            records = [result] if result else []
        else:
            records = result
        env = {**env, "result": records}
        return check_list_envelope(env) if require_id else _check_records(env)

    return parse


def _check_records(env: dict[str, Any]) -> dict[str, Any]:
    result = env["result"]
    if not isinstance(result, list):
        raise BodyProblem(f"'result' is a {type(result).__name__}, expected a list of records")
    for index, record in enumerate(result):
        if not isinstance(record, dict):
            raise BodyProblem(f"record {index} is a {type(record).__name__}, expected an object")
    return env


def check_object_envelope(body: Any) -> dict[str, Any]:
    """A success envelope whose `result` is one object."""
    env = check_envelope(body)
    if not isinstance(env["result"], dict):
        raise BodyProblem(f"'result' is a {type(env['result']).__name__}, expected an object")
    return env


# A `count` beyond this is not a number of records (paging arithmetic would overflow a float).
MAX_COUNT = 2**53


def envelope_count(env: dict[str, Any]) -> int | None:
    """The envelope's `count` (total matching records), tolerating a numeric string of ASCII
    digits; None when absent or not numeric. A count no server could mean (beyond 2**53, more
    digits than that, non-ASCII digits such as "²") is a BodyProblem."""
    count = env.get("count")
    if isinstance(count, str) and count.strip().isdigit():
        text = count.strip()
        if not text.isascii() or len(text) > 16:
            raise BodyProblem(f"envelope 'count' is a string of {len(text)} unusual digits")
        count = int(text)
    if isinstance(count, int) and not isinstance(count, bool):
        if abs(count) > MAX_COUNT:
            raise BodyProblem(f"envelope 'count' is beyond {MAX_COUNT}")
        return count
    return None


def check_token_reply(body: Any) -> tuple[str, float]:
    """(access_token, expires_in seconds) from the bare-object token reply."""
    if not isinstance(body, dict):
        raise BodyProblem(f"token reply is a JSON {type(body).__name__}, expected an object")
    if body.get("status") == "fail":
        raise FailedEnvelope(str(body.get("message", body.get("result", "no message"))))
    token = body.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise BodyProblem("token reply has no 'access_token'")
    expires_in = body.get("expires_in")
    if isinstance(expires_in, str) and expires_in.strip().isdigit():
        expires_in = int(expires_in)
    if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
        raise BodyProblem("token reply has no positive 'expires_in'")
    return token, float(expires_in)
