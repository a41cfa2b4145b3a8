"""Which egress each account's runs go to: pinned ones first, the rest balanced by projected cost.

Plain data in, plain data out. Costs are requests per day (the budget's projection,
`hostaway-pipeline budget --egress` records them); an account with no recorded cost counts as
the mean of those with one (1 request/day when none has any). Greedy longest-first: the most
expensive unpinned account goes to the egress with the most room left, so each egress's
projected load stays as far under its daily per-IP limit as the accounts allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

QUEUE_PREFIX = "egress-"


def queue_of(egress_id: str) -> str:
    """The Celery queue of an egress's workers (`dagster-celery/queue` tag of its runs)."""
    return f"{QUEUE_PREFIX}{egress_id}"


@dataclass(frozen=True)
class Placement:
    """Account -> egress, and each egress's projected requests per day."""

    egress_of: dict[int, str]
    load: dict[str, float]
    pinned: frozenset[int] = field(default_factory=frozenset)
    estimated: frozenset[int] = field(default_factory=frozenset)  # no recorded cost

    def accounts_on(self, egress_id: str) -> list[int]:
        return sorted(a for a, e in self.egress_of.items() if e == egress_id)

    def over(self, limit_per_day: float) -> list[str]:
        """Egresses whose projected load exceeds the limit."""
        return sorted(e for e, load in self.load.items() if load > limit_per_day)


def place(
    accounts: Sequence[int],
    egresses: Sequence[str],
    costs: Mapping[int, float],
    pinned: Mapping[int, str] | None = None,
) -> Placement:
    """Place `accounts` on `egresses` (an account pinned to an egress stays on it, live or not)."""
    pinned = {a: e for a, e in (pinned or {}).items() if a in set(accounts)}
    known = [costs[a] for a in accounts if a in costs]
    fallback = sum(known) / len(known) if known else 1.0
    cost = {a: costs.get(a, fallback) for a in accounts}
    load = {e: 0.0 for e in egresses}
    egress_of: dict[int, str] = {}
    for account, egress in pinned.items():
        egress_of[account] = egress
        load[egress] = load.get(egress, 0.0) + cost[account]
    free = sorted((a for a in accounts if a not in pinned), key=lambda a: (-cost[a], a))
    if egresses:
        for account in free:
            target = min(egresses, key=lambda e: (load[e], e))
            egress_of[account] = target
            load[target] += cost[account]
    return Placement(
        egress_of,
        load,
        frozenset(pinned),
        frozenset(a for a in accounts if a not in costs),
    )
