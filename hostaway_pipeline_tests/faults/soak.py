"""The soak's clock and its record: how long each soak test runs, and where its figures go.

HOSTAWAY_SOAK_MINUTES (default 12) is the whole soak's length; each test takes its share.
Figures are appended as JSON lines to HOSTAWAY_SOAK_REPORT (default: soak-results.jsonl in the
system temp folder) and copied by hand into docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


def soak_minutes() -> float:
    return float(os.environ.get("HOSTAWAY_SOAK_MINUTES") or 12)


def soak_deadline(share: float) -> float:
    """A time.monotonic() deadline `share` of the soak's length from now."""
    return time.monotonic() + soak_minutes() * 60 * share


def record(test: str, figures: dict[str, Any]) -> None:
    path = Path(
        os.environ.get("HOSTAWAY_SOAK_REPORT") or Path(tempfile.gettempdir()) / "soak-results.jsonl"
    )
    line = {"test": test, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **figures}
    with path.open("a") as f:
        f.write(json.dumps(line, default=str) + "\n")
    print(json.dumps(line, default=str))
