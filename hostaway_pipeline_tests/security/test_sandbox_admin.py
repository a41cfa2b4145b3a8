"""The sandbox's admin endpoints (every account's secret, mutations) answer loopback only."""

from __future__ import annotations

import socket

import pytest
import requests

from hostaway_sandbox import SandboxServer, SeedSpec


def _non_loopback_address() -> str:
    """An address of this machine that is not loopback (UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))
        except OSError:
            pytest.skip("this machine has no non-loopback IPv4 route")
        address = str(s.getsockname()[0])
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


@pytest.mark.parametrize("allow", [False, True])
def test_admin_refuses_non_loopback_clients_unless_allowed(allow: bool) -> None:
    address = _non_loopback_address()
    seed = SeedSpec(accounts=1, listings=1, reservations=1)
    # Bound to every interface on purpose: the test is about a client from another address.
    with SandboxServer(seed=seed, host="0.0.0.0", allow_remote_admin=allow) as server:  # noqa: S104
        aid = server.state.account_ids()[0]
        secret = server.state.secret(aid)
        local = requests.get(f"http://127.0.0.1:{server.port}/_sandbox/accounts", timeout=10)
        remote = requests.get(f"http://{address}:{server.port}/_sandbox/accounts", timeout=10)
        mutate = requests.post(
            f"http://{address}:{server.port}/_sandbox/mutate",
            json={"op": "rotate_secret", "account_id": aid},
            timeout=10,
        )
        after = server.state.secret(aid)
    assert local.status_code == 200 and secret in local.text
    if allow:
        assert remote.status_code == 200 and secret in remote.text
        assert mutate.status_code == 200 and after != secret
    else:
        assert remote.status_code == 403 and mutate.status_code == 403
        assert secret not in remote.text and after == secret
        assert "--allow-remote-admin" in remote.json()["message"]
