"""Admin HTTP API under `/_sandbox/` for tests and demos that run the sandbox in a subprocess.

`GET /_sandbox/accounts` -> {id: secret}; `GET /_sandbox/stats`; `POST /_sandbox/stats/reset`;
`GET|POST /_sandbox/faults` (JSON settings, see `FaultConfig.update`); `POST /_sandbox/limits`
(see `_limits`); `POST /_sandbox/mutate`
with {"op": <SandboxState method>, "account_id": .., ...keyword arguments}; `GET /_sandbox/health`.
Admin calls bypass faults, rate limits, auth and the request log. They answer loopback clients
only, unless the server was started with `allow_remote_admin` (`--allow-remote-admin`).
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import SandboxServer

REMOTE_REFUSED = (
    "the sandbox admin endpoints answer loopback clients only; "
    "start the sandbox with --allow-remote-admin to allow others"
)


def is_loopback(address: str) -> bool:
    """Whether a client address is this machine (127.0.0.0/8, ::1, IPv4-mapped loopback)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


MUTATIONS = (
    "update_reservation",
    "cancel_reservation",
    "add_reservation",
    "add_message",
    "add_conversation",
    "edit_message",
    "delete_conversation",
    "update_listing",
    "archive_listing",
    "delete_listing",
    "add_listing",
    "revoke_tokens",
    "revoke_token",
    "rotate_secret",
    "add_account",
    "update_object",
    "delete_object",
    "add_object",
)


def handle(
    sb: SandboxServer, method: str, path: str, query: dict[str, str], body: bytes
) -> tuple[int, Any]:
    """Answer one admin request: (status, JSON payload)."""
    try:
        data: dict[str, Any] = json.loads(body) if body.strip() else {}
    except ValueError:
        return 400, {"status": "fail", "message": "body is not JSON"}
    route = (method, path.rstrip("/"))
    try:
        if route == ("GET", "/_sandbox/health"):
            return 200, {"status": "success", "url": sb.url}
        if route == ("GET", "/_sandbox/accounts"):
            return 200, {str(k): v for k, v in sb.state.tokens.secrets_map().items()}
        if route == ("GET", "/_sandbox/stats"):
            return 200, sb.stats.snapshot(window_s=sb.limiter.window_s)
        if route == ("POST", "/_sandbox/stats/reset"):
            sb.stats.reset()
            return 200, {"status": "success"}
        if route == ("GET", "/_sandbox/faults"):
            return 200, sb.faults.as_dict()
        if route == ("POST", "/_sandbox/faults"):
            sb.faults.update(data)
            return 200, sb.faults.as_dict()
        if route == ("POST", "/_sandbox/limits"):
            return 200, _limits(sb, data)
        if route == ("POST", "/_sandbox/mutate"):
            return 200, {"status": "success", "result": _mutate(sb, data)}
    except (KeyError, ValueError, TypeError) as e:
        return 400, {"status": "fail", "message": f"{type(e).__name__}: {e}"}
    return 404, {"status": "fail", "message": f"unknown admin endpoint {method} {path}"}


def _limits(sb: SandboxServer, data: dict[str, Any]) -> dict[str, Any]:
    """Change limits at runtime: rate_limit_per_ip/_per_account (0 or null: off), window_s,
    retry_after, token_activation_delay_s; answers the resulting settings."""
    lim = sb.limiter
    if "rate_limit_per_ip" in data:
        lim.per_ip = int(data["rate_limit_per_ip"] or 0) or None
    if "rate_limit_per_account" in data:
        lim.per_account = int(data["rate_limit_per_account"] or 0) or None
    if "window_s" in data:
        lim.window_s = float(data["window_s"])
    if "retry_after" in data:
        sb.retry_after = bool(data["retry_after"])
    if "token_activation_delay_s" in data:
        sb.state.tokens.activation_delay_s = float(data["token_activation_delay_s"])
    return sb.describe() | {"retry_after": sb.retry_after}


def _mutate(sb: SandboxServer, data: dict[str, Any]) -> Any:
    op = data.pop("op", None)
    if op not in MUTATIONS:
        raise ValueError(f"unknown op {op!r}; expected one of {MUTATIONS}")
    fn = getattr(sb.state, op)
    if op == "revoke_token":
        return fn(data["token"])
    if op == "add_account":
        return fn()
    account_id = int(data.pop("account_id"))
    if op.endswith("_object"):  # catalog rows: {"endpoint", "key"|"row", "parent_id", "fields"}
        parent = data.get("parent_id")
        parent_id = None if parent is None else int(parent)
        if op == "add_object":
            return fn(data["endpoint"], account_id, data["row"], parent_id)
        key = tuple(data["key"]) if isinstance(data["key"], list) else data["key"]
        if op == "delete_object":
            return fn(data["endpoint"], account_id, key, parent_id)
        return fn(data["endpoint"], account_id, key, parent_id, **data.get("fields", {}))
    for key in ("reservation_id", "listing_id", "conversation_id", "message_id"):
        if key in data and data[key] is not None:
            data[key] = int(data[key])
    return fn(account_id, **data)
