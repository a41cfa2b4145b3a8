"""The HTTP transport: one pooled session, the rate limiter, and the retry loop.

The policy (what is retried, for how long) is in `retry.py`; this module sends, counts and logs.
Every attempt, retries included, first reserves a slot from the rate limiter.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Generic, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter

from hostaway_pipeline.client import errors as e
from hostaway_pipeline.client import payloads
from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.envelope import BodyProblem, FailedEnvelope
from hostaway_pipeline.client.limiter import RateLimiter
from hostaway_pipeline.client.retry import TRANSIENT_EXCEPTIONS, Retry, backoff_s, status_failure
from hostaway_pipeline.client.stats import ClientStats

T = TypeVar("T")


@dataclass(frozen=True)
class Reply(Generic[T]):
    """A validated response: the parsed value, its X-Request-ID and HTTP status."""

    value: T
    request_id: str
    status: int


# Deeper bodies are refused: Python's own recursion limit (1000 frames, shared with the caller's
# stack) must never be what stops a decoder or encoder further down.
MAX_DEPTH = 512
_CHUNK = 64 * 1024


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when `value` nests lists/objects deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _strict_json(content: bytes) -> Any:
    """Decode JSON. Numbers Python cannot hold (1e400, NaN, Infinity, 5,000-digit integers) are
    kept as their literal text (`payloads.NumberLiteral`); nesting deeper than MAX_DEPTH is a
    protocol break, not a crash further down."""
    try:
        value = payloads.loads(content)
    except RecursionError:
        raise BodyProblem(f"body nests deeper than {MAX_DEPTH} levels") from None
    if _too_deep(value):
        raise BodyProblem(f"body nests deeper than {MAX_DEPTH} levels")
    return value


class Transport:
    """Sends requests for one account; safe to share between threads."""

    def __init__(
        self,
        config: ClientConfig,
        account_id: int,
        limiter: RateLimiter,
        stats: ClientStats,
        logger: logging.Logger,
        sensitive: Callable[[], Iterable[str]],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config, self.account_id = config, account_id
        self._limiter, self._stats, self._log = limiter, stats, logger
        self._sensitive, self._sleep = sensitive, sleep
        self.session = requests.Session()
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # stateless
        # One pool per scheme, sized so every worker thread keeps its connection alive.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=config.max_concurrency + 1)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": config.user_agent, "Accept": "application/json"})

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        token: str | None = None,
        idempotent: bool = True,
    ) -> Reply[T]:
        """Send until a valid reply or a typed error; `parse` validates the decoded JSON body.

        A non-idempotent request (a POST that creates) is retried only after a 429, which
        Hostaway answers before doing anything; after a timeout, a dropped connection, a 5xx or
        a garbled 2xx it may have been applied, so the error is raised at once and the caller
        decides (webhook registration lists and matches by URL before it posts again).
        """
        if "?" in path or not path.startswith("/"):
            raise ValueError(f"path must look like '/listings' (query values go in params): {path}")
        malformed = 0
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                return self._attempt(method, path, parse, params, data, json_body, token, attempt)
            except Retry as retry:
                if not idempotent and not isinstance(retry.final, e.RateLimitedError):
                    raise retry.final from None
                malformed += retry.malformed
                if attempt == self.config.max_attempts or malformed > self.config.malformed_retries:
                    raise retry.final from None
                self._stats.add(retries=1)
                if retry.delay_s > 0:
                    self._sleep(retry.delay_s)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json_body: Any,
        token: str | None,
        attempt: int,
    ) -> Reply[T]:
        cfg = self.config
        waited = self._limiter.acquire()
        if waited:
            self._stats.add(rate_limit_wait_s=waited)
        request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": request_id}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        deadline = started + cfg.request_deadline_s
        try:
            resp = self.session.request(
                method,
                cfg.base_url + path,
                params=params,
                data=data,
                json=json_body,
                headers=headers,
                timeout=(cfg.connect_timeout_s, min(cfg.read_timeout_s, cfg.request_deadline_s)),
                allow_redirects=False,
                stream=True,
            )
            with resp:
                content = self._read_body(resp, deadline, path, request_id, attempt)
        except requests.RequestException as exc:
            self._stats.add(requests=1, errors=1)
            latency = time.monotonic() - started
            self._log_attempt(method, path, type(exc).__name__, latency, attempt, request_id)
            raise self._transport_failure(exc, path, request_id, attempt) from None
        except (e.BodyTooLargeError, Retry) as refused:  # too large, or past the deadline
            latency = time.monotonic() - started
            what = "too-large" if isinstance(refused, e.BodyTooLargeError) else "deadline"
            self._log_attempt(method, path, what, latency, attempt, request_id)
            raise
        latency, status = time.monotonic() - started, resp.status_code
        self._stats.add(requests=1)
        self._stats.record_status(status)
        ctx = self._ctx(path, request_id, status)
        if 200 <= status < 300:
            try:
                value = self._parse(resp, content, parse, attempt, ctx)
            except Exception:
                self._log_attempt(method, path, f"{status}-invalid", latency, attempt, request_id)
                raise
            self._log_attempt(method, path, status, latency, attempt, request_id)
            return Reply(value, request_id, status)
        self._log_attempt(method, path, status, latency, attempt, request_id)
        self._stats.add(errors=1)
        body = self._facts(resp, content)
        raise status_failure(cfg, status, resp.headers, body, attempt, ctx)

    def _read_body(
        self, resp: requests.Response, deadline: float, path: str, request_id: str, attempt: int
    ) -> bytes:
        """The body, read as it arrives: refused past `max_body_bytes` or the deadline."""
        cap = self.config.max_body_bytes
        declared = (resp.headers.get("Content-Length") or "").strip()
        if declared.isascii() and declared.isdigit() and len(declared) < 20 and int(declared) > cap:
            raise self._too_large(path, request_id, resp.status_code)
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise self._deadline(path, request_id, attempt)
            try:
                chunk = resp.raw.read1(_CHUNK, decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                # What requests' own iter_content would raise: a transient transport failure.
                raise requests.exceptions.ChunkedEncodingError(type(exc).__name__) from None
            if not chunk:
                content = b"".join(chunks)
                # Tell requests the body was read, so closing keeps the pooled connection alive.
                resp._content, resp._content_consumed = content, True  # type: ignore[attr-defined]
                return content
            size += len(chunk)
            if size > cap:
                raise self._too_large(path, request_id, resp.status_code)
            chunks.append(chunk)

    def _too_large(self, path: str, request_id: str, status: int) -> e.BodyTooLargeError:
        self._stats.add(requests=1, errors=1)
        return e.BodyTooLargeError(
            f"account {self.account_id}: Hostaway's answer at {path} is larger than "
            f"{self.config.max_body_bytes} bytes (HTTP {status}); refused unread: a page should "
            f"be far smaller, report it with the request id {request_id}",
            **self._ctx(path, request_id, status),
        )

    def _deadline(self, path: str, request_id: str, attempt: int) -> Retry:
        self._stats.add(requests=1, errors=1)
        final = e.DeadlineExceededError(
            f"account {self.account_id}: Hostaway's answer at {path} took longer than "
            f"{self.config.request_deadline_s:.0f} s (attempt {attempt}); the server or the "
            "network is too slow: retry the run later",
            **self._ctx(path, request_id),
        )
        return Retry(final, backoff_s(self.config, attempt))

    @staticmethod
    def _facts(resp: requests.Response, content: bytes) -> str:
        server_id = resp.headers.get("X-Request-ID") or resp.headers.get("X-Amzn-RequestId")
        return e.body_facts(resp.headers.get("Content-Type"), len(content), server_id)

    def _transport_failure(
        self, exc: requests.RequestException, path: str, request_id: str, attempt: int
    ) -> Exception:
        what = f"{type(exc).__name__} at {path}"
        if not isinstance(exc, TRANSIENT_EXCEPTIONS):
            return e.RequestError(
                f"account {self.account_id}: the request could not be sent ({what}); check "
                "HOSTAWAY_API_URL",
                **self._ctx(path, request_id),
            )
        host = self.config.base_url.split("://", 1)[-1].split("/", 1)[0]
        final = e.ServerError(
            f"account {self.account_id}: no answer from {host} ({what}) after {attempt} "
            "attempt(s); check the network and HOSTAWAY_API_URL, then retry the run",
            **self._ctx(path, request_id),
        )
        return Retry(final, backoff_s(self.config, attempt))

    def _parse(
        self,
        resp: requests.Response,
        content: bytes,
        parse: Callable[[Any], T],
        attempt: int,
        ctx: dict[str, Any],
    ) -> T:
        try:
            return parse(_strict_json(content))
        except FailedEnvelope as fail:
            # The server's message is not quoted: it may name a guest.
            self._stats.add(errors=1)
            raise e.RequestError(
                f"account {self.account_id}: Hostaway answered status 'fail' at "
                f"{ctx['endpoint']} (a message of {len(str(fail))} characters, not shown; "
                f"request id {ctx['request_id']}); check the request parameters",
                **ctx,
            ) from None
        except (ValueError, BodyProblem) as problem:
            self._stats.add(errors=1)
            reason = (
                str(problem) if isinstance(problem, BodyProblem) else self._not_json(resp, content)
            )
            final = e.MalformedResponseError(
                f"account {self.account_id}: Hostaway returned an invalid response at "
                f"{ctx['endpoint']} ({reason}) on attempt {attempt}; if it persists the API "
                f"changed or a proxy interferes: report it with the request id {ctx['request_id']}",
                retryable=not isinstance(problem, BodyProblem),
                **ctx,
            )
            raise Retry(final, backoff_s(self.config, attempt), malformed=True) from None

    def _not_json(self, resp: requests.Response, content: bytes) -> str:
        facts = self._facts(resp, content)
        if content.lstrip()[:1] in (b"{", b"["):
            return f"body is not valid JSON, {facts}: truncated?"
        return f"body is not JSON, {facts}"

    def _ctx(self, path: str, request_id: str, status: int | None = None) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "endpoint": path,
            "request_id": request_id,
            "status": status,
        }

    def _log_attempt(
        self, method: str, path: str, status: int | str, latency: float, attempt: int, rid: str
    ) -> None:
        # The path only (`request` refuses query strings in paths): query values are never logged.
        latency_ms = round(latency * 1000)
        ok = isinstance(status, int) and 200 <= status < 300
        fields = {
            "method": method,
            "path": path,
            "status": status,
            "latency_ms": latency_ms,
            "attempt": attempt,
            "request_id": rid,
            "account_id": self.account_id,
        }
        self._log.log(
            logging.DEBUG if ok else logging.WARNING,
            "%s %s %s %dms attempt=%d request_id=%s account_id=%s",
            *fields.values(),
            extra={"hostaway": fields},
        )
