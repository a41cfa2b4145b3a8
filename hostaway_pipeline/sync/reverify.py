"""The rolling re-verification slice of a full sync (messages of conversations).

A full sync skips the children of parents whose change fields did not move; an edit that moves no
change field (a message corrected in place) would then never be seen. So every full sync also
refetches a slice of the stored parents, oldest verification first: ceil(live / N days) of them,
plus every one last verified N days or more ago (a missed or late full sync catches up). With a
full sync at least daily, each live parent is re-verified at least every N days: the parents
verified before it only leave the queue ahead of it, one slice per run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from datetime import datetime, timedelta


def reverify_slice(
    verified: Mapping[int, datetime], live: Set[int], now: datetime, every: timedelta
) -> set[int]:
    """Live, verified parents whose children this full sync refetches even if unmoved."""
    days = max(1, math.ceil(every / timedelta(days=1)))
    candidates = sorted((at, pid) for pid, at in verified.items() if pid in live)
    size = math.ceil(len(live) / days)
    due = {pid for at, pid in candidates if at <= now - every}
    return due | {pid for _, pid in candidates[:size]}
