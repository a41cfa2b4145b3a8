"""Unified webhooks in the sandbox: registrations (`/v1/webhooks/unifiedWebhooks`) and deliveries.

Every reservation or message mutation of `SandboxState` is posted as a unified-webhook envelope
to each enabled registration of its account, with HTTP Basic auth when login/password are set,
as Hostaway does. `options` injects what Hostaway's delivery does in the wild: duplicates,
reordering (random extra delay), a fixed delay, and failures of the first attempts; a failed
attempt (connection error, 5xx, 429) is retried on Hostaway's schedule (about 1 min, then
exponential, all within about an hour), scaled by `options.time_scale` for tests. Other 4xx are
not retried. `log` records each attempt (registration id, event, attempt, status) for tests.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

# Hostaway: the first retry ~1 minute later, then exponential backoff, all within ~1 hour.
RETRY_SCHEDULE_S = (60.0, 600.0, 3000.0)
ACK_TIMEOUT_S = 20.0


@dataclass
class DeliveryOptions:
    duplicate_rate: float = 0.0  # chance that an event is delivered twice
    reorder_s: float = 0.0  # each delivery waits a random 0..reorder_s extra (scaled)
    delay_s: float = 0.0  # each delivery waits this long first (scaled)
    fail_attempts: int = 0  # the first N attempts of every delivery "fail" (sender side: 503)
    time_scale: float = 1.0  # multiplies every delay and retry wait (0.001: an hour in 3.6 s)


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    hook_id: int = field(compare=False)
    envelope: dict[str, Any] = field(compare=False)
    attempt: int = field(default=0, compare=False)


class WebhookHub:
    """Registrations per account and a delivery thread; thread-safe."""

    def __init__(self) -> None:
        self.options = DeliveryOptions()
        self._lock = threading.Condition()
        self._hooks: dict[int, dict[int, dict[str, Any]]] = {}  # account -> id -> object
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._queue: list[_Delivery] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rng = random.Random(0)
        self._session = requests.Session()
        self.log: list[tuple[int, str, int, int | str]] = []
        self._inflight = 0

    # -- registrations (the API) -----------------------------------------------------------
    def handle(self, account_id: int, method: str, path: str, body: Any) -> tuple[int, Any]:
        """`/v1/webhooks/unifiedWebhooks[/{id}]`: list, create, update, delete."""
        tail = path.removeprefix("/v1/webhooks/unifiedWebhooks").strip("/")
        with self._lock:
            hooks = self._hooks.setdefault(account_id, {})
            if not tail:
                if method == "GET":
                    return 200, _ok([_public(h) for h in hooks.values()])
                if method == "POST":
                    obj = _validated(body)
                    if obj is None:
                        return 400, _fail("url must be a http(s) URL")
                    obj["id"] = next(self._ids)
                    hooks[obj["id"]] = obj
                    return 200, _ok(_public(obj))
                return 405, _fail("Method not allowed")
            if not tail.isdigit() or int(tail) not in hooks:
                return 404, _fail("Unified webhook not found")
            hook_id = int(tail)
            if method == "DELETE":
                del hooks[hook_id]
                return 200, _ok([])
            if method == "PUT":
                obj = _validated(body)
                if obj is None:
                    return 400, _fail("url must be a http(s) URL")
                obj["id"] = hook_id
                hooks[hook_id] = obj
                return 200, _ok(_public(obj))
            if method == "GET":
                return 200, _ok(_public(hooks[hook_id]))
            return 405, _fail("Method not allowed")

    def registrations(self, account_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(h) for h in self._hooks.get(account_id, {}).values()]

    # -- deliveries ------------------------------------------------------------------------
    def emit(self, account_id: int, object_: str, event: str, data: dict[str, Any]) -> None:
        """Queue one event for every enabled registration of the account."""
        envelope = {"object": object_, "event": event, "accountId": account_id, "data": data}
        opts = self.options
        with self._lock:
            for hook in self._hooks.get(account_id, {}).values():
                if not hook.get("isEnabled"):
                    continue
                copies = 2 if self._rng.random() < opts.duplicate_rate else 1
                for _ in range(copies):
                    wait = opts.delay_s + self._rng.random() * opts.reorder_s
                    due = time.monotonic() + wait * opts.time_scale
                    heapq.heappush(
                        self._queue, _Delivery(due, next(self._seq), hook["id"], envelope)
                    )
            self._lock.notify_all()

    def pending(self) -> int:
        """Deliveries not yet acknowledged or given up."""
        with self._lock:
            return len(self._queue) + self._inflight

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._session.close()

    def _next(self) -> _Delivery | None:
        with self._lock:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._queue and self._queue[0].due <= now:
                    self._inflight += 1
                    return heapq.heappop(self._queue)
                timeout = self._queue[0].due - now if self._queue else 0.5
                self._lock.wait(timeout=min(timeout, 0.5))
            return None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._attempt(item)
            finally:
                with self._lock:
                    self._inflight -= 1

    def _attempt(self, item: _Delivery) -> None:
        with self._lock:
            hook = next(
                (h for hs in self._hooks.values() for h in hs.values() if h["id"] == item.hook_id),
                None,
            )
        if hook is None or not hook.get("isEnabled"):
            return
        status: int | str
        if item.attempt < self.options.fail_attempts:
            status = "injected failure"
        else:
            auth = (hook["login"], hook["password"]) if hook.get("login") else None
            try:
                reply = self._session.post(hook["url"], json=item.envelope, auth=auth,
                                           timeout=ACK_TIMEOUT_S)  # fmt: skip
                status = reply.status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
        event = str(item.envelope["event"])
        with self._lock:
            self.log.append((item.hook_id, event, item.attempt, status))
        transient = not isinstance(status, int) or status >= 500 or status == 429
        if isinstance(status, int) and 200 <= status < 300:
            return
        if transient and item.attempt < len(RETRY_SCHEDULE_S):
            wait = RETRY_SCHEDULE_S[item.attempt] * self.options.time_scale
            item.due, item.attempt = time.monotonic() + wait, item.attempt + 1
            item.seq = next(self._seq)
            with self._lock:
                heapq.heappush(self._queue, item)
                self._lock.notify_all()


def _validated(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict):
        return None
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    return {
        "isEnabled": 1 if body.get("isEnabled", 1) else 0,
        "url": url,
        "login": body.get("login"),
        "password": body.get("password"),
        "alertingEmailAddress": body.get("alertingEmailAddress"),
    }


def _public(hook: dict[str, Any]) -> dict[str, Any]:
    return dict(hook)


def _ok(result: Any) -> dict[str, Any]:
    return {"status": "success", "result": result}


def _fail(message: str) -> dict[str, Any]:
    return {"status": "fail", "message": message, "result": None}
