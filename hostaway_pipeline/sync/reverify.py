"""The rolling re-verification slice of a full sync (messages of conversations).

A full sync skips the children of parents whose change fields did not move; an edit that moves no
change field (a message corrected in place) would then never be seen. So every full sync also
refetches a slice of the stored parents, oldest verification first: ceil(live / N days) of them,
plus every one last verified N days or more ago (a missed or late full sync catches up). With a
full sync at least daily, each live parent is re-verified at least every N days: the parents
verified before it only leave the queue ahead of it, one slice per run.

Cheap children are re-read whole instead: when re-reading every parent's children costs at most
`max_requests` requests for the account (one per live parent: fees of 50 listings), every full
sync re-reads them all, so a child deleted under an unchanged parent is gone the next morning.
Expensive ones (2,000 reservations' finance fields) keep the slice. A reconcile re-reads every
child of every entity, whatever it costs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from datetime import datetime, timedelta

# A full sync re-reads every child of an entity whose complete re-read costs at most this many
# requests for the account (HOSTAWAY_FULL_REREAD_MAX_REQUESTS).
DEFAULT_REREAD_MAX_REQUESTS = 200


def rereads_whole(live_parents: int, max_requests: int, reconcile: bool = False) -> bool:
    """Whether a full sync re-reads every live parent's children (rather than the slice)."""
    return reconcile or live_parents <= max_requests


def full_sync_due(
    verified: Mapping[int, datetime], live: Set[int], now: datetime, every: timedelta, whole: bool
) -> set[int]:
    """Verified live parents a full sync re-reads although unmoved: all of them, or the slice."""
    if whole:
        return {pid for pid in verified if pid in live}
    return reverify_slice(verified, live, now, every)


def reverify_slice(
    verified: Mapping[int, datetime], live: Set[int], now: datetime, every: timedelta
) -> set[int]:
    """Live, verified parents whose children this full sync refetches even if unmoved."""
    days = max(1, math.ceil(every / timedelta(days=1)))
    candidates = sorted((at, pid) for pid, at in verified.items() if pid in live)
    size = math.ceil(len(live) / days)
    due = {pid for at, pid in candidates if at <= now - every}
    return due | {pid for _, pid in candidates[:size]}
