"""`hostaway-pipeline budget --egress`: per egress, its accounts and their projected share.

Plain data in, text out: the projection per account is the request budget's (budget.py), the
placement egress/placement.py's; each egress has one IP's daily limit.
"""

from __future__ import annotations

from hostaway_pipeline.accounts.budget import Limits
from hostaway_pipeline.egress.placement import Placement


def format_egress_budget(placement: Placement, limits: Limits, days: int) -> str:
    """One line per egress: accounts, projected requests/day and share of its per-IP limit."""
    ip_day = limits.per_day(limits.per_ip)
    header = f"{'egress':<20}{'accounts':>9}{'projected/day':>15}{'%IP/day':>9}  accounts"
    lines = [header]
    for egress in sorted(placement.load):
        on = placement.accounts_on(egress)
        names = " ".join(
            f"{a}{'*' if a in placement.estimated else ''}{'(pinned)' if a in placement.pinned else ''}"
            for a in on
        )
        load = placement.load[egress]
        lines.append(
            f"{egress:<20}{len(on):>9}{load:>15,.0f}{100 * load / ip_day:>8.2f}%  {names or '-'}"
        )
    lines += [
        "",
        f"each egress: {limits.per_ip} requests per {limits.window_s:g} s = {ip_day:,.0f}/day "
        f"(projections from the last {days} days of recorded syncs, on the schedules)",
    ]
    if placement.estimated:
        lines.append("* no recorded sync in the window: counted as the mean of the others")
    for egress in placement.over(ip_day):
        lines.append(
            f"egress {egress}: projected {placement.load[egress]:,.0f}/day is over its per-IP "
            f"limit ({ip_day:,.0f}/day): add an egress (a worker with a new --egress-id on "
            "another address) or move pinned accounts (`accounts egress ID EGRESS`)"
        )
    return "\n".join(lines)
