"""Local files hold guest data and the key: home 0700, SQLite warehouse and key file 0600.

Modes are set when a file or folder is created, before anything is written to it (a chmod
afterwards leaves a window where another local user can open it). At start-up a loose home or
warehouse is warned about; a loose key file is refused (see secrets.py).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from hostaway_pipeline.settings import Settings

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def loose(path: Path) -> bool:
    """Whether group or other users have any access to `path`."""
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700 folders; an existing folder is left as is."""
    path = Path(path)
    if path.is_dir():
        return path
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return path


def ensure_private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 unless it exists (its folder is created 0700)."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite warehouse URL, None for PostgreSQL or in-memory SQLite."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None
    return Path(str(url.database)).resolve()


def check_home(settings: Settings) -> None:
    """Warn about a home folder or SQLite warehouse that other local users can read."""
    home = Path(settings.home)
    if home.is_dir() and loose(home):
        log.warning(
            "%s (HOSTAWAY_HOME) is open to other local users; restrict it with `chmod 700 %s`",
            home,
            home,
        )
    warehouse = sqlite_path(settings.database_url)
    if warehouse is not None and warehouse.exists() and loose(warehouse):
        log.warning(
            "the SQLite warehouse %s (guest data) is readable by other local users; restrict it "
            "with `chmod 600 %s`",
            warehouse,
            warehouse,
        )
