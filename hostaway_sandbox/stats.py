"""Thread-safe request counters and the request log of the sandbox's API (admin calls excluded)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

TOKEN_PATH = "/v1/accessTokens"
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_of(path: str) -> str:
    """Templated path: `/v1/conversations/123/messages` -> `/v1/conversations/{id}/messages`."""
    return _ID_SEGMENT.sub("/{id}", path)


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the sandbox answered it (status 0: connection dropped)."""

    ts: float
    method: str
    path: str
    query: dict[str, str]
    status: int
    account_id: int | None
    request_id: str | None
    fault: str | None = None
    client: str | None = None  # the caller's source address


class Stats:
    """Counters over the request log; `by_endpoint` keys use templated paths."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._tokens: Counter[int] = Counter()

    def record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        status: int,
        account_id: int | None,
        request_id: str | None,
        fault: str | None = None,
        client: str | None = None,
    ) -> None:
        """Append one request to the log."""
        rec = RequestRecord(
            time.time(), method, path, dict(query), status, account_id, request_id, fault, client
        )
        with self._lock:
            self._log.append(rec)
            if method == "POST" and path == TOKEN_PATH and account_id is not None:
                self._tokens[account_id] += 1

    @property
    def log(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def total(self) -> int:
        """Number of API requests (including the token endpoint)."""
        with self._lock:
            return len(self._log)

    def by_endpoint(self) -> dict[tuple[str, str], int]:
        """{(method, templated path): n}."""
        return dict(Counter((r.method, endpoint_of(r.path)) for r in self.log))

    def by_status(self) -> dict[int, int]:
        """{status: n}."""
        return dict(Counter(r.status for r in self.log))

    def by_client(self) -> dict[str, int]:
        """{source address: n}: which addresses the requests came from."""
        return dict(Counter(r.client for r in self.log if r.client is not None))

    def by_account(self) -> dict[int, int]:
        """{account id: n} over requests attributed to an account."""
        return dict(Counter(r.account_id for r in self.log if r.account_id is not None))

    def token_requests(self, account_id: int) -> int:
        """POST /v1/accessTokens calls naming this account as client_id (any outcome)."""
        with self._lock:
            return self._tokens[account_id]

    def count(
        self,
        path_prefix: str | None = None,
        status: int | None = None,
        account_id: int | None = None,
        method: str | None = None,
    ) -> int:
        """Requests matching every given criterion."""
        return sum(
            1
            for r in self.log
            if (path_prefix is None or r.path.startswith(path_prefix))
            and (status is None or r.status == status)
            and (account_id is None or r.account_id == account_id)
            and (method is None or r.method == method)
        )

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self._log.clear()
            self._tokens.clear()

    def peak(self, window_s: float) -> int:
        """The most answered (not 429) requests in any `window_s` seconds, from every client:
        above the per-IP limit only when several source addresses sent at once."""
        times = sorted(r.ts for r in self.log if r.status != 429)
        best, first = 0, 0
        for last, ts in enumerate(times):
            while ts - times[first] >= window_s:
                first += 1
            best = max(best, last - first + 1)
        return best

    def snapshot(self, window_s: float | None = None) -> dict[str, Any]:
        """JSON-ready summary (for `GET /_sandbox/stats`; with `window_s`, its `peak`)."""
        log = self.log
        with self._lock:
            tokens = {str(k): v for k, v in self._tokens.items()}
        return {
            "total": len(log),
            "by_status": {str(k): v for k, v in self.by_status().items()},
            "by_account": {str(k): v for k, v in self.by_account().items()},
            "by_client": self.by_client(),
            "by_endpoint": {f"{m} {p}": n for (m, p), n in self.by_endpoint().items()},
            "token_requests": tokens,
            "log_tail": [asdict(r) for r in log[-50:]],
            **({"peak_in_window": self.peak(window_s)} if window_s else {}),
            "first_ts": log[0].ts if log else None,
            "last_ts": log[-1].ts if log else None,
        }
