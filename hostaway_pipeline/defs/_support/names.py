"""Names that definitions of several domains refer to (a name, not the object, breaks the cycle)."""

from __future__ import annotations

SYNC_JOB_NAME = "hostaway_sync"
