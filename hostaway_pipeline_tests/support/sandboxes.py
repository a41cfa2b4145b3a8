"""The Hostaway sandbox as the tests start it: over real HTTP, with or without its rate limits.

Where limits, pacing or concurrency are not the subject, the sandbox enforces none and clients are
configured not to pace (`client_limits`): at Hostaway's real 15 requests per window a full sync of
the catalog waits ~6 s on its own limiter and proves nothing more. Tests about limits mark
themselves `rate_limited` (root `sandbox` fixture) or pass the limits explicitly.
"""

from __future__ import annotations

from hostaway_sandbox import SandboxServer, SeedSpec

# Hostaway's real limits (per window), which the sandbox enforces when asked to.
PER_IP = 15
PER_ACCOUNT = 20
# What a client is told when the sandbox enforces no limit: pacing is then ~0.1 ms a request.
UNLIMITED = 10_000
DEFAULT_SEED = SeedSpec(accounts=2, listings=7, reservations=35, messages_per_conversation=3)


def seeded_sandbox(seed: SeedSpec | None = None, *, limited: bool = False) -> SandboxServer:
    """A seeded sandbox over real HTTP on a 1 s rate window (not started): without rate limits,
    or with Hostaway's real ones when `limited`."""
    return SandboxServer(
        seed=seed or DEFAULT_SEED,
        rate_limit_per_ip=PER_IP if limited else None,
        rate_limit_per_account=PER_ACCOUNT if limited else None,
        window_s=1.0,
        token_activation_delay_s=0.05,
    )


def client_limits(server: SandboxServer) -> tuple[int, int]:
    """(per IP, per account) for a client of `server`: its limits, or UNLIMITED where it has none."""
    return server.limiter.per_ip or UNLIMITED, server.limiter.per_account or UNLIMITED


def client_env(server: SandboxServer) -> dict[str, str]:
    """The HOSTAWAY_RATE_LIMIT_* settings of a process that is a client of `server`."""
    per_ip, per_account = client_limits(server)
    return {
        "HOSTAWAY_RATE_LIMIT_PER_IP": str(per_ip),
        "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT": str(per_account),
        "HOSTAWAY_RATE_LIMIT_WINDOW_S": f"{server.limiter.window_s:g}",
    }
