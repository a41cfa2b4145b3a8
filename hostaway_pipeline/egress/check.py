"""The egress start check: ask an IP echo which address we send from, compare with the warehouse.

Hostaway counts requests per source address, and the per-IP bucket is per egress id, so the
two must match one to one. At start a worker asks the echo (HOSTAWAY_EGRESS_ECHO_URL) for its
source address and records (egress id -> address) in the warehouse. It refuses to start when
its egress id was recently seen from another address (two machines on two IPs sharing one
bucket: the ids must differ), and warns when another id was seen from its address (two buckets
for one IP: Hostaway will answer 429s).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from datetime import UTC, datetime

import requests
import sqlalchemy as sa

from hostaway_pipeline.egress import store

ECHO_TIMEOUT_S = 10.0


class EgressError(Exception):
    """The egress of this process cannot be confirmed; the message says what to do."""


def observe_address(echo_url: str, timeout_s: float = ECHO_TIMEOUT_S) -> str:
    """The source address the echo at `echo_url` sees: `{"ip": "..."}` or the address as text."""
    try:
        reply = requests.get(echo_url, timeout=timeout_s, headers={"Accept": "application/json"})
        reply.raise_for_status()
    except requests.RequestException as exc:
        raise EgressError(
            f"the IP echo at {echo_url} did not answer ({type(exc).__name__}); check "
            "HOSTAWAY_EGRESS_ECHO_URL or unset it to skip the egress check"
        ) from None
    text = reply.text.strip()
    try:
        parsed = json.loads(text)
        text = str(parsed.get("ip", "")) if isinstance(parsed, dict) else str(parsed)
    except ValueError:
        pass
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise EgressError(
            f"the IP echo at {echo_url} answered {text[:60]!r}, not an address; it must answer "
            'an address as text or {"ip": "..."}'
        ) from None


def check_egress(
    engine: sa.Engine,
    egress_id: str,
    address: str,
    hostname: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Record that this host sends from `address` as `egress_id`; warnings to show.

    Raises EgressError when `egress_id` was seen from another address within the last
    `store.FRESH_FOR` (another machine, or this one behind a changed NAT, owns the id).
    """
    now = now or datetime.now(UTC)
    hostname = hostname or socket.gethostname()
    found = store.others(engine, egress_id, address, now)
    if found.conflicts:
        seen = found.conflicts[0]
        raise EgressError(
            f"egress {egress_id}: this host ({hostname}) sends from {address}, but "
            f"{seen.hostname} sent from {seen.address} as {egress_id} at "
            f"{seen.seen_at:%Y-%m-%d %H:%M:%S} UTC; one egress id must mean one source address. "
            f"Start this worker with its own --egress-id (one per address), or stop the worker "
            f"on {seen.hostname} and wait {int(store.FRESH_FOR.total_seconds() // 60)} minutes"
        )
    store.record(engine, egress_id, address, hostname, now)
    return [
        f"egress ids {egress_id} and {other.egress_id} both send from {address} (seen on "
        f"{other.hostname} at {other.seen_at:%H:%M:%S} UTC): each has its own per-IP budget, "
        "so together they send up to twice what Hostaway allows one IP and will get 429s; "
        "give workers on one address one egress id"
        for other in found.shared
    ]
