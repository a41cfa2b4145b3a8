"""Retry policy: what is retried, how long to wait, and the error left when retries run out.

- 429: wait `Retry-After` / `X-RateLimit-Retry-After` (the larger, never below a small floor);
  without either header, exponential backoff with full jitter, but at least one per-IP interval.
  A requested wait above `retry_after_max_s` raises RateLimitedError at once (retryable: the
  scheduler can wait minutes better than a worker thread can).
- 5xx, 408, 425, timeouts, dropped connections, truncated transfers: exponential backoff with full
  jitter, `uniform(0, min(cap, base * 2**(attempt - 1)))`; a Retry-After on them is honoured too.
- a 2xx whose body is not JSON or breaks the envelope: retried `malformed_retries` times (proxies
  truncate bodies transiently), then MalformedResponseError.
- 401/403 -> AuthError (the client refreshes the token once); other 4xx -> RequestError (final).
The loop itself lives in `http.Transport`, so every retry and 429 is counted in ClientStats.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from hostaway_pipeline.client import errors as e
from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.envelope import TOKEN_PATH

TRANSIENT_EXCEPTIONS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class Retry(Exception):
    """One failed attempt that may be retried after `delay_s`; `final` is raised if none remain."""

    def __init__(self, final: e.HostawayError, delay_s: float, malformed: bool = False) -> None:
        super().__init__(str(final))
        self.final, self.delay_s, self.malformed = final, delay_s, malformed


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The larger of `Retry-After` and `X-RateLimit-Retry-After` (seconds or HTTP date), if any."""
    waits: list[float] = []
    for name in ("Retry-After", "X-RateLimit-Retry-After"):
        raw = (headers.get(name) or "").strip()
        if not raw:
            continue
        try:
            waits.append(max(0.0, float(raw)))
        except ValueError:
            try:
                when = parsedate_to_datetime(raw).timestamp()
            except (TypeError, ValueError, IndexError):
                continue
            waits.append(max(0.0, when - (time.time() if now is None else now)))
    return max(waits) if waits else None


def backoff_s(
    config: ClientConfig, attempt: int, rand: Callable[[float, float], float] = random.uniform
) -> float:
    """Full-jitter exponential backoff before attempt `attempt + 1`."""
    return rand(0, min(config.backoff_cap_s, config.backoff_base_s * 2 ** (attempt - 1)))


def status_failure(
    config: ClientConfig,
    status: int,
    headers: Mapping[str, str],
    body: str,
    attempt: int,
    ctx: dict[str, Any],
) -> Exception:
    """The outcome of a non-2xx answer: a typed error to raise now, or a Retry.

    `body` describes the body (type, size, request id: `errors.body_facts`), never quotes it;
    `ctx` holds account_id, endpoint, request_id, status.
    """
    aid, path = ctx["account_id"], ctx["endpoint"]
    kw = dict(ctx)
    if status in (401, 403) or (path == TOKEN_PATH and status == 400):
        if path == TOKEN_PATH:
            return e.AuthError(e.auth_message_token_endpoint(aid, status), **kw)
        return e.AuthError(f"account {aid}: access token refused ({status} at {path})", **kw)
    if status not in RETRY_STATUSES:
        return e.RequestError(
            f"account {aid}: Hostaway answered {status} at {path}: {body}; check the request "
            "(path, parameters) or the account's access to it",
            **kw,
        )
    wait = retry_after_seconds(headers)
    if wait is not None and wait > config.retry_after_max_s:
        return e.RateLimitedError(
            f"account {aid}: Hostaway asked to wait {wait:.0f} s ({status} at {path}), longer "
            f"than the {config.retry_after_max_s:.0f} s we wait in-process; retry the run later",
            retry_after_s=wait,
            **kw,
        )
    if wait is not None:
        delay = max(wait, config.retry_after_floor_s)
    elif status == 429:
        delay = max(backoff_s(config, attempt), config.ip_interval_s)
    else:
        delay = backoff_s(config, attempt)
    final: e.HostawayError
    if status == 429:
        final = e.RateLimitedError(
            f"account {aid}: still rate limited (429 at {path}) after {attempt} attempt(s); another "
            "client may share this API key or host, or the real limits are lower than "
            "HOSTAWAY_RATE_LIMIT_PER_IP / _PER_ACCOUNT: lower them, then retry the run",
            retry_after_s=wait,
            **kw,
        )
    else:
        final = e.ServerError(
            f"account {aid}: Hostaway kept failing ({status} at {path}: {body}) after {attempt} "
            "attempt(s); it is probably down or overloaded, retry the run later",
            **kw,
        )
    return Retry(final, delay)
