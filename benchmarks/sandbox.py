"""The sandbox in its own process, as a real API would be: start, admin calls, stop.

The benchmark never shares a process (or a GIL) with the server it measures: the sandbox runs as
`python -m hostaway_sandbox --json ...`, and everything else goes through its HTTP admin
API under `/_sandbox/`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import requests


@dataclass(frozen=True)
class SandboxSpec:
    """How to seed and limit one sandbox process (counts are per account)."""

    accounts: int = 3
    listings: int = 10
    reservations: int = 50
    conversation_ratio: float = 0.8
    messages_per_conversation: int = 5
    latency_ms: tuple[float, float] = (80.0, 150.0)
    rate_limit_per_ip: int = 15  # 0: no limit
    rate_limit_per_account: int = 20  # 0: no limit
    window_s: float = 10.0
    token_activation_delay_s: float = 1.0
    seed: int = 42
    extra_args: tuple[str, ...] = field(default=())

    def argv(self) -> list[str]:
        lo, hi = self.latency_ms
        return [
            "--json",
            "--port", "0",
            "--accounts", str(self.accounts),
            "--listings", str(self.listings),
            "--reservations", str(self.reservations),
            "--conversation-ratio", str(self.conversation_ratio),
            "--messages-per-conversation", str(self.messages_per_conversation),
            "--latency-ms", f"{lo:g}-{hi:g}",
            "--rate-limit-per-ip", str(self.rate_limit_per_ip),
            "--rate-limit-per-account", str(self.rate_limit_per_account),
            "--window-s", str(self.window_s),
            "--token-activation-delay-s", str(self.token_activation_delay_s),
            "--seed", str(self.seed),
            *self.extra_args,
        ]  # fmt: skip


class SandboxProcess:
    """A running sandbox subprocess; use as a context manager."""

    def __init__(self, spec: SandboxSpec, start_timeout_s: float = 600.0) -> None:
        self.spec = spec
        self._timeout = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.url = ""  # API base URL, http://127.0.0.1:PORT/v1
        self.secrets: dict[int, str] = {}
        self._http = requests.Session()

    def __enter__(self) -> SandboxProcess:
        cmd = [sys.executable, "-m", "hostaway_sandbox", *self.spec.argv()]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        line = self._first_line()
        described = json.loads(line)
        self.url = described["url"]
        self.secrets = {int(k): v for k, v in described["accounts"].items()}
        return self

    def _first_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(self._timeout)
        if not out or not out[0].strip():
            tail = self.stderr_tail()
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {tail}")
        return out[0]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM our sandbox process (and only it), then wait for it."""
        self._http.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
        self._stderr.close()

    def stderr_tail(self, chars: int = 2000) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-chars:]

    @property
    def admin_url(self) -> str:
        return self.url.removesuffix("/v1") + "/_sandbox"

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self._http.request(method, f"{self.admin_url}/{path}", json=body, timeout=120)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> dict[str, Any]:
        """Counters of every API request so far (see the sandbox README)."""
        data: dict[str, Any] = self._admin("GET", "stats")
        data.pop("log_tail", None)
        return data

    def reset_stats(self) -> None:
        self._admin("POST", "stats/reset")

    def set_limits(self, **limits: Any) -> None:
        """rate_limit_per_ip, rate_limit_per_account (0: off), window_s, token_activation_delay_s."""
        self._admin("POST", "limits", limits)

    def set_latency(self, lo_ms: float, hi_ms: float) -> None:
        self._admin("POST", "faults", {"latency_ms": [lo_ms, hi_ms]})

    def mutate(self, op: str, account_id: int, **kwargs: Any) -> Any:
        """Apply one SandboxState mutation (e.g. "add_message") and return its result."""
        return self._admin("POST", "mutate", {"op": op, "account_id": account_id, **kwargs})[
            "result"
        ]


def count_status(stats: dict[str, Any], status: int) -> int:
    """Responses with `status` in a stats snapshot."""
    return int(stats.get("by_status", {}).get(str(status), 0))


def count_endpoint(stats: dict[str, Any], endpoint: str) -> int:
    """Requests to e.g. "GET /v1/listings" in a stats snapshot."""
    return int(stats.get("by_endpoint", {}).get(endpoint, 0))
