"""The HTTP request handler: faults, rate limits, auth, routing and the request log."""

from __future__ import annotations

import contextlib
import json
import math
import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import admin, queries
from .stats import TOKEN_PATH

if TYPE_CHECKING:
    from .server import SandboxServer

HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    b"<center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
)
ECHO_PATH = "/_echo/ip"
_ROUTES = {
    "/v1/listings": queries.listings,
    "/v1/reservations": queries.reservations,
    "/v1/conversations": queries.conversations,
}


def _fail(message: str) -> dict[str, Any]:
    return {"status": "fail", "message": message}


class Reply(Exception):
    """Raised to answer at once: status, JSON or bytes body, extra headers."""

    def __init__(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        fault: str | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.fault = fault


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive with Content-Length on every response."""

    protocol_version = "HTTP/1.1"
    server_version = "HostawaySandbox/1.0"
    sandbox: SandboxServer  # set on the subclass the server builds

    def setup(self) -> None:
        """Disable Nagle: headers and body go out as separate writes (avoids 40 ms stalls)."""
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tracked = getattr(self.server, "open_sockets", None)
        if tracked is not None:
            with self.server.sockets_lock:  # type: ignore[attr-defined]
                tracked.add(self.connection)

    def finish(self) -> None:
        """Forget the connection when it closes."""
        tracked = getattr(self.server, "open_sockets", None)
        if tracked is not None:
            with self.server.sockets_lock:  # type: ignore[attr-defined]
                tracked.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (the request log lives in `stats`)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # ------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, bytes):
            data, ctype = body, "text/html; charset=utf-8"
        else:
            data, ctype = json.dumps(body, ensure_ascii=False).encode(), "application/json"
        self.send_response(status)
        for k, v in {"Content-Type": ctype, **(headers or {})}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._body()
        sb = self.sandbox
        if path == ECHO_PATH and method == "GET":
            # An IP echo (like api.ipify.org?format=json): the caller's source address. Hostaway
            # has none; workers use it to check their egress (egress/check.py).
            self._send(200, {"ip": self.client_address[0]})
            return
        if path.startswith("/_sandbox/"):
            if not (sb.allow_remote_admin or admin.is_loopback(self.client_address[0])):
                # Admin answers with every account's secret and mutates data: local callers only.
                self._send(403, {"status": "fail", "message": admin.REMOTE_REFUSED})
                return
            status, payload = admin.handle(sb, method, path, query, body)
            self._send(status, payload)
            return
        account_id: int | None = None
        fault: str | None = None
        headers: dict[str, str] = {}
        try:
            if path == TOKEN_PATH and method == "POST":
                account_id = sb.state.tokens.account_of_client(
                    self._form(body).get("client_id", "")
                )
            elif path != TOKEN_PATH:
                account_id = sb.state.tokens.peek_account(self._bearer())
            delay = sb.faults.latency_s()
            if delay:
                sb.stopping.wait(delay)
            fault = sb.faults.pick(path)
            self._short_circuit(fault)
            wait = sb.limiter.acquire(
                self.client_address[0], None if path == TOKEN_PATH else account_id
            )
            if wait > 0:
                raise Reply(429, _fail("Too many requests, rate limit exceeded"), self._retry(wait))
            status, payload = self._api(method, path, query, body)
            if fault == "truncated" and status == 200:
                data = json.dumps(payload, ensure_ascii=False).encode()
                payload = data[: max(1, len(data) // 2)]
                headers = {"Content-Type": "application/json"}
        except Reply as r:
            fault = r.fault or fault
            status, payload, headers = r.status, r.body, r.headers
        except Exception as e:  # a hook or a bug: answer 500 rather than hang up
            status, payload = 500, _fail(f"sandbox error: {type(e).__name__}: {e}")
        # record before answering, so a client that has its response also sees it in stats
        sb.stats.record(
            method, path, query, status, account_id, self.headers.get("X-Request-ID"), fault,
            client=self.client_address[0],
        )  # fmt: skip
        if status == 0:
            self._drop()
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._send(status, payload, headers)

    def _short_circuit(self, fault: str | None) -> None:
        sb = self.sandbox
        if fault is None or fault == "truncated":
            return
        if fault == "timeout":
            sb.stopping.wait(sb.faults.timeout_s)
            return
        if fault == "429":
            raise Reply(429, _fail("Too many requests"), self._retry(1.0), fault)
        if fault == "5xx":
            status = 502 if sb.faults.coin() else 503
            body: Any = HTML_PAGE if sb.faults.coin() else _fail("Service temporarily unavailable")
            raise Reply(status, body, fault=fault)
        bodies: dict[str, tuple[int, Any]] = {
            "500": (500, _fail("Internal server error")),
            "502": (502, HTML_PAGE),
            "503": (503, _fail("Service temporarily unavailable")),
            "401": (401, _fail("Unauthorized")),
            "403": (403, _fail("Forbidden")),
            "400": (400, _fail("Bad request")),
            "html200": (200, HTML_PAGE),
            "html500": (500, HTML_PAGE.replace(b"502 Bad Gateway", b"500 Internal Server Error")),
            "drop": (0, None),
        }
        status, body = bodies[fault]
        raise Reply(status, body, fault=fault)

    def _retry(self, wait: float) -> dict[str, str]:
        if not self.sandbox.retry_after:
            return {}
        secs = str(max(1, math.ceil(wait)))
        return {"Retry-After": secs, "X-RateLimit-Retry-After": secs}

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _bearer(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        return auth[7:].strip() if auth[:7].lower() == "bearer " else None

    def _form(self, body: bytes) -> dict[str, str]:
        text = body.decode("utf-8", "replace")
        if "json" in (self.headers.get("Content-Type") or "") and text.strip().startswith("{"):
            try:
                return {k: str(v) for k, v in json.loads(text).items()}
            except ValueError:
                return {}
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        sb = self.sandbox
        tokens = sb.state.tokens
        if path == TOKEN_PATH:
            if method == "POST":
                form = self._form(body)
                sb.call_hook(
                    method, path, query, tokens.account_of_client(form.get("client_id", ""))
                )
                token, error = tokens.issue(form)
                if token is None:
                    return 403, _fail(error)
                return 200, {"token_type": "Bearer", "expires_in": 63072000, "access_token": token}
            if method == "DELETE":
                token = query.get("token") or self._bearer() or ""
                tokens.revoke(token)
                return 200, {"status": "success", "result": []}
            return 405, _fail("Method not allowed")
        account_id, reason = tokens.check(self._bearer())
        if account_id is None:
            return 403, _fail(reason)
        refused = sb.faults.forbidden(account_id, path)
        if refused is not None:  # an endpoint this account is not entitled to (faults.forbid)
            return refused, _fail("You are not allowed to access this resource")
        if path.startswith("/v1/webhooks/unifiedWebhooks"):
            try:
                doc = json.loads(body) if body else None
            except ValueError:
                return 400, _fail("Invalid JSON body")
            return sb.webhooks.handle(account_id, method, path, doc)
        if method != "GET":
            return 405, _fail("Method not allowed")
        fn: Callable[..., queries.Result] | None = _ROUTES.get(path)
        args: tuple[Any, ...] = (query,)
        if fn is None:
            parts = path.split("/")
            if (
                len(parts) == 4
                and parts[2] in ("reservations", "conversations")
                and parts[3].isascii()
                and parts[3].isdigit()  # not /v1/reservations/paymentMethods (the catalog's)
            ):
                # GET /v1/reservations/{id}, /v1/conversations/{id}: one object (webhooks verify)
                sb.call_hook(method, path, query, account_id)
                try:
                    return 200, sb.state.one(account_id, parts[2], parts[3])
                except queries.QueryError as e:
                    return e.status, _fail(e.message)
            if len(parts) == 5 and parts[2] == "conversations" and parts[4] == "messages":
                try:
                    args = (int(parts[3]), query)
                except ValueError:
                    return 404, _fail("Conversation not found")
                fn = queries.messages
            elif sb.state.catalog.match(path) is not None:
                sb.call_hook(method, path, query, account_id)
                try:
                    return 200, sb.state.catalog_answer(account_id, path, query)
                except queries.QueryError as e:
                    return e.status, _fail(e.message)
            else:
                return 404, _fail(f"Unknown endpoint {path}")
        sb.call_hook(method, path, query, account_id)
        try:
            return 200, sb.state.query(account_id, fn, *args)
        except queries.QueryError as e:
            return e.status, _fail(e.message)
