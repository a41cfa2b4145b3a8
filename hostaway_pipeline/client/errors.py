"""Typed client errors whose messages name the account and endpoint and say what to do next.

Every message is built from values the client controls: never from a response body (an HTML error
page or a `fail` message can quote guest data or a secret). What is said about a body is its
status, content type, length and request id (`body_facts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

BODY_EXCERPT_CHARS = 200

# Generic shapes of credentials, scrubbed even when the exact value is unknown to the caller.
_SECRET_PATTERNS = (
    re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"),  # JWT
    re.compile(
        r"(?i)((?:access_token|client_secret|token|secret|authorization)[\"']?\s*[:=]\s*[\"']?)"
        r"(?:bearer\s+)?[^\s\"'&,}]+"
    ),
    re.compile(r"(?i)(bearer\s+)[^\s\"'&,}]+"),
)
REDACTED = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret and anything shaped like a token replaced by ***."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _SECRET_PATTERNS[0].sub(REDACTED, text)
    for pattern in _SECRET_PATTERNS[1:]:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def excerpt(body: str | bytes | None, secrets: Iterable[str] = ()) -> str:
    """A one-line, redacted, truncated excerpt of a response body for an error message."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    flat = " ".join(body.split())
    # Redact before truncating, so a secret cut in half by truncation cannot survive.
    flat = redact(flat, secrets)
    if len(flat) > BODY_EXCERPT_CHARS:
        flat = flat[:BODY_EXCERPT_CHARS] + "..."
    return flat


def body_facts(content_type: str | None, size: int, server_request_id: str | None = None) -> str:
    """What an error message may say about a response body: its type and size, never its text."""
    kind = " ".join((content_type or "no content type").split())[:80]
    facts = f"{size} bytes of {kind}"
    if server_request_id:
        facts += f", server request id {' '.join(server_request_id.split())[:80]}"
    return facts


class HostawayError(Exception):
    """Base of every client error.

    Attributes:
        account_id: the Hostaway account the call was made for.
        endpoint: the API path relative to the base URL (no query string), e.g. "/reservations".
        request_id: the X-Request-ID of the last attempt (None if no request was sent).
        retryable: True when running the same work again later may succeed.
        status: the HTTP status of the last response, if any.
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        account_id: int,
        endpoint: str,
        request_id: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.account_id = account_id
        self.endpoint = endpoint
        self.request_id = request_id
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable

    def __reduce__(self) -> tuple[object, ...]:
        # Keep keyword attributes when the error crosses a process boundary (multiprocessing).
        return (_rebuild, (type(self), str(self), self.__dict__.copy()))


def _rebuild(cls: type[HostawayError], message: str, attrs: dict[str, object]) -> HostawayError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(attrs)
    return err


class AuthError(HostawayError):
    """Hostaway rejected the credentials or the token (after one refresh). Not retryable as is."""


class RateLimitedError(HostawayError):
    """Still HTTP 429 after every retry, or Hostaway asked for a wait longer than we accept."""

    default_retryable = True

    def __init__(
        self,
        message: str,
        *,
        account_id: int,
        endpoint: str,
        request_id: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(
            message,
            account_id=account_id,
            endpoint=endpoint,
            request_id=request_id,
            status=status,
            retryable=retryable,
        )
        self.retry_after_s = retry_after_s


class ServerError(HostawayError):
    """5xx, timeouts or connection errors that outlasted every retry."""

    default_retryable = True


class MalformedResponseError(HostawayError):
    """The response is not what the protocol promises: not JSON, wrong envelope, bad records, a
    pagination loop. Retryable only when it looks transient (a body that is not JSON)."""


class BodyTooLargeError(MalformedResponseError):
    """The response body is larger than `ClientConfig.max_body_bytes`; not retried."""


class DeadlineExceededError(ServerError):
    """One attempt took longer than `ClientConfig.request_deadline_s` in total (a server dripping
    its answer); retried like a timeout."""


class RequestError(HostawayError):
    """Any other 4xx (or a 2xx with status "fail"): the request itself is wrong."""


def auth_message_token_endpoint(account_id: int, status: int) -> str:
    """The message for credentials rejected at the token endpoint."""
    return (
        f"account {account_id}: Hostaway rejected the client secret ({status} at /accessTokens); "
        f"update it with `hostaway-pipeline accounts set-secret {account_id}`"
    )


def auth_message_api(account_id: int, endpoint: str, status: int) -> str:
    """The message for an API call refused twice, once with a freshly loaded token."""
    return (
        f"account {account_id}: Hostaway refused the access token ({status} at {endpoint}) "
        "again after a token refresh; the API key may have lost access to this resource or been "
        "revoked: check the key in Hostaway, and if it changed update it with "
        f"`hostaway-pipeline accounts set-secret {account_id}`"
    )
