"""Hold some accounts' API answers in the sandbox until the test opens the gate.

The e2e test needs the accounts' first syncs to run at the same time, and the first account's to
be running while GraphQL runs queue behind it. Left to timing, a fast sync can end first (or, on a
loaded machine, the second can start after the first ended). The gate makes that order certain:
each answer to a gated account waits until the gate opens, but never longer than `step_s`, under
the client's 30 s read timeout, so a held request is slow, never retried or failed.

What it records is what the test asserts, not how fast processes started: `held` counts the
answers that waited, per account, and `together` is set at the moment every gated account has an
answer waiting at once (so a request of each was in flight at the same instant). `waiting` is the
number of answers of each account waiting right now.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from hostaway_sandbox.faults import TOKEN_PATH
from hostaway_sandbox.server import SandboxServer


class AccountGate:
    def __init__(
        self, sandbox: SandboxServer, account_ids: Iterable[int], step_s: float = 20.0
    ) -> None:
        self.sandbox = sandbox
        self.account_ids = frozenset(account_ids)
        self.step_s = step_s
        self.held: Counter[int] = Counter()
        self.waiting: Counter[int] = Counter()
        self.together = threading.Event()
        # Run ids of each account's runs the instance records as STARTED while `together` held
        # and the gate was still closed (filled in by the e2e `graphql_runs` fixture).
        self.in_progress: dict[str, list[str]] = {}
        self._opened = threading.Event()
        self._lock = threading.Lock()

    def close(self) -> None:
        assert self.sandbox.hooks.before_response is None, "another hook is installed"
        self.sandbox.hooks.before_response = self._hold

    def open(self) -> None:
        self._opened.set()
        if self.sandbox.hooks.before_response == self._hold:
            self.sandbox.hooks.before_response = None

    def all_held(self) -> bool:
        """Every gated account has had an answer waiting at the gate at the same moment."""
        return self.together.is_set()

    def _hold(self, method: str, path: str, query: dict[str, str], account_id: int | None) -> None:
        if account_id not in self.account_ids or path.startswith(TOKEN_PATH):
            return
        if self._opened.is_set():
            return
        with self._lock:
            self.held[account_id] += 1
            self.waiting[account_id] += 1
            if all(self.waiting[a] > 0 for a in self.account_ids):
                self.together.set()
        try:
            self._opened.wait(self.step_s)
        finally:
            with self._lock:
                self.waiting[account_id] -= 1
