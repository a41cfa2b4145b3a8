"""Fault injection: latency, 5xx, 429 storms, truncated JSON, HTML pages, drops and timeouts.

Faults apply to API requests only, never to `/_sandbox/` admin calls. The token endpoint
(`/v1/accessTokens`) is exempt from random faults, storms and unprefixed queue entries unless
`include_token_endpoint` is set or a queue entry's `path_prefix` names it explicitly; latency
applies to every API request, the token endpoint included.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

TOKEN_PATH = "/v1/accessTokens"

#: Every fault kind understood by `queue` (and reported in the request log).
KINDS = (
    "429",  # rate-limited fail envelope (Retry-After headers when the server sends them)
    "5xx",  # 502 or 503, HTML or JSON body
    "500",  # 500 JSON fail envelope
    "502",  # 502 HTML (a gateway page)
    "503",  # 503 JSON fail envelope
    "401",  # fail envelope
    "403",  # fail envelope (a stale-looking token; the token is not revoked)
    "400",  # fail envelope (a request Hostaway refuses as malformed: final, not about access)
    "truncated",  # 200, the real body cut in half
    "html200",  # 200 with an HTML error page
    "html500",  # 500 with an HTML error page
    "drop",  # socket closed without a response
    "timeout",  # sleep `timeout_s`, then answer normally
)


@dataclass
class _Queued:
    kind: str
    remaining: int
    path_prefix: str | None
    exact: bool = False  # the path itself, not the paths under it


@dataclass
class FaultConfig:
    """Runtime-mutable fault settings; rates are probabilities per API request."""

    error_rate_5xx: float = 0.0
    truncated_json_rate: float = 0.0
    html_error_rate: float = 0.0
    drop_connection_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_s: float = 5.0
    latency_ms: tuple[float, float] = (0.0, 0.0)
    include_token_endpoint: bool = False
    seed: int | None = None
    _queue: list[_Queued] = field(default_factory=list, repr=False)
    # account -> path prefix -> status: endpoints an account is not entitled to (see `forbid`).
    _forbidden: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def storm_429(self, n: int) -> None:
        """The next `n` API requests get 429."""
        self.queue("429", n)

    def queue(
        self, kind: str, count: int = 1, path_prefix: str | None = None, path: str | None = None
    ) -> None:
        """One-shot faults: the next `count` matching requests get `kind` (FIFO across entries).

        `path_prefix` matches the request path with or without `/v1` (`"/reservations"` works,
        and also hits `/reservations/paymentMethods`); `path` matches only that path.
        """
        if path is not None:
            path_prefix = path
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        if count > 0:
            with self._lock:
                self._queue.append(_Queued(kind, count, path_prefix, exact=path is not None))

    def forbid(self, account_id: int, path_prefix: str, status: int = 403) -> None:
        """Until `allow`, answer `status` (403 or 404, a fail envelope) to every request of the
        account under `path_prefix` (with or without `/v1`), with any valid token: an endpoint
        the account is not entitled to. Checked after auth, so a bad token still gets its own
        403 and the token endpoint is never affected."""
        if status not in (403, 404):
            raise ValueError(f"forbid answers 403 or 404, not {status}")
        with self._lock:
            self._forbidden.setdefault(int(account_id), {})[path_prefix] = status

    def allow(self, account_id: int, path_prefix: str | None = None) -> None:
        """Undo `forbid` for one prefix of the account (None: all of its prefixes)."""
        with self._lock:
            prefixes = self._forbidden.get(int(account_id), {})
            if path_prefix is None:
                prefixes.clear()
            else:
                prefixes.pop(path_prefix, None)

    def forbidden(self, account_id: int | None, path: str) -> int | None:
        """The status `forbid` set for this account's request to `path`, if any."""
        with self._lock:
            prefixes = dict(self._forbidden.get(account_id or 0, {}))
        for prefix, status in prefixes.items():
            if path.startswith(prefix) or path.startswith("/v1" + prefix):
                return status
        return None

    def pending(self) -> int:
        """Queued one-shot faults not yet used."""
        with self._lock:
            return sum(q.remaining for q in self._queue)

    def clear(self) -> None:
        """Turn every fault off (rates, latency and the queue)."""
        with self._lock:
            self._queue.clear()
            self._forbidden.clear()
        self.error_rate_5xx = self.truncated_json_rate = self.html_error_rate = 0.0
        self.drop_connection_rate = self.timeout_rate = 0.0
        self.latency_ms = (0.0, 0.0)

    def update(self, settings: dict[str, Any]) -> None:
        """Apply a JSON settings object (`POST /_sandbox/faults`): fields, plus the actions
        `clear` (bool), `storm_429` (int), `queue` ({kind, count, path_prefix} or a list),
        `forbid` ([{account_id, path_prefix, status}]) and `allow` ([{account_id, path_prefix}])."""
        if settings.get("clear"):
            self.clear()
        for name in (
            "error_rate_5xx",
            "truncated_json_rate",
            "html_error_rate",
            "drop_connection_rate",
            "timeout_rate",
            "timeout_s",
        ):
            if name in settings:
                setattr(self, name, float(settings[name]))
        if "include_token_endpoint" in settings:
            self.include_token_endpoint = bool(settings["include_token_endpoint"])
        if "latency_ms" in settings:
            lo, hi = settings["latency_ms"]
            self.latency_ms = (float(lo), float(hi))
        if settings.get("storm_429"):
            self.storm_429(int(settings["storm_429"]))
        for entry in settings.get("forbid") or []:  # [{account_id, path_prefix, status}]
            self.forbid(
                int(entry["account_id"]), entry["path_prefix"], int(entry.get("status", 403))
            )
        for entry in settings.get("allow") or []:  # [{account_id, path_prefix?}]
            self.allow(int(entry["account_id"]), entry.get("path_prefix"))
        queued = settings.get("queue") or []
        for entry in [queued] if isinstance(queued, dict) else queued:
            self.queue(
                entry["kind"], int(entry.get("count", 1)), entry.get("path_prefix"),
                entry.get("path"),
            )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view of the settings."""
        with self._lock:
            queued = [vars(q).copy() for q in self._queue]
            forbidden = {str(a): dict(p) for a, p in self._forbidden.items() if p}
        return {
            "error_rate_5xx": self.error_rate_5xx,
            "truncated_json_rate": self.truncated_json_rate,
            "html_error_rate": self.html_error_rate,
            "drop_connection_rate": self.drop_connection_rate,
            "timeout_rate": self.timeout_rate,
            "timeout_s": self.timeout_s,
            "latency_ms": list(self.latency_ms),
            "include_token_endpoint": self.include_token_endpoint,
            "queue": queued,
            "forbidden": forbidden,
        }

    def latency_s(self) -> float:
        """A latency draw (uniform in `latency_ms`), in seconds."""
        lo, hi = self.latency_ms
        if hi <= 0:
            return 0.0
        with self._lock:
            return self._rng.uniform(lo, max(lo, hi)) / 1000.0

    def pick(self, path: str) -> str | None:
        """The fault for this API request (None: answer normally). Consumes queued entries."""
        is_token = path.startswith(TOKEN_PATH)
        with self._lock:
            for q in self._queue:
                if q.path_prefix is None:
                    if is_token and not self.include_token_endpoint:
                        continue
                elif not _hits(q, path):
                    continue
                q.remaining -= 1
                kind = q.kind
                if q.remaining <= 0:
                    self._queue.remove(q)
                return kind
            if is_token and not self.include_token_endpoint:
                return None
            r = self._rng.random()
            for kind, rate in (
                ("5xx", self.error_rate_5xx),
                ("truncated", self.truncated_json_rate),
                ("html", self.html_error_rate),
                ("drop", self.drop_connection_rate),
                ("timeout", self.timeout_rate),
            ):
                if r < rate:
                    if kind == "html":
                        return self._rng.choice(("html200", "html500"))
                    return kind
                r -= rate
        return None

    def coin(self) -> bool:
        """A fair coin from the fault RNG (e.g. HTML vs JSON bodies)."""
        with self._lock:
            return self._rng.random() < 0.5


def _hits(q: _Queued, path: str) -> bool:
    """Whether a queued fault with a path targets this request's path."""
    assert q.path_prefix is not None
    if q.exact:
        return path in (q.path_prefix, "/v1" + q.path_prefix)
    return path.startswith(q.path_prefix) or path.startswith("/v1" + q.path_prefix)
