"""A faithful local Hostaway API server (seeded data, real limits, injectable faults).

See docs/CONTRACTS.md for the public API and /work/shared/hostaway-api.md for the protocol.
"""

from __future__ import annotations

from .catalog import Endpoint, SeedContext
from .data import SeedSpec
from .faults import FaultConfig
from .server import SandboxServer
from .state import SandboxState
from .stats import RequestRecord

__all__ = [
    "Endpoint",
    "FaultConfig",
    "RequestRecord",
    "SandboxServer",
    "SandboxState",
    "SeedContext",
    "SeedSpec",
]
