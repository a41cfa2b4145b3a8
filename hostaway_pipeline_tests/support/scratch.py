"""Where the tests' scratch files go: tmpfs when the machine has one.

The suite writes many small transactions to files it throws away: Dagster test instances (SQLite
event logs, a connection and an fsync per event), SQLite warehouses, homes, the embedded cluster.
On a disk shared with other work, those fsyncs were a quarter of a Dagster test's time. With
TMPDIR unset, the tests use /dev/shm (Linux's tmpfs) instead; an explicit TMPDIR wins, and
HOSTAWAY_TEST_TMPFS=0 keeps the system's default.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SHM = Path("/dev/shm")


def use_tmpfs() -> Path | None:
    """Point TMPDIR (this process and its children) at /dev/shm if the rules above allow."""
    if os.environ.get("TMPDIR") or os.environ.get("HOSTAWAY_TEST_TMPFS", "1") == "0":
        return None
    if not (SHM.is_dir() and os.access(SHM, os.W_OK | os.X_OK)):
        return None
    os.environ["TMPDIR"] = str(SHM)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    return SHM
