"""The checkout's `.env`, which tools started in the checkout read (`dg` loads it itself).

One test writes a production `.env` there for a while (ui/test_ui.py); a test that starts such a
tool in the checkout on another worker meanwhile would read it. Both take this lock for as long
as the file exists or the tool runs, so they take turns instead of racing.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 600  # the `.env` test holds it while a UI starts and its sensor ticks


def dotenv_turn() -> FileLock:
    """The checkout's `.env` lock (in the temp directory: the checkout stays clean)."""
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return FileLock(Path(tempfile.gettempdir()) / f"hostaway-dotenv-{digest}.lock", timeout=WAIT_S)
