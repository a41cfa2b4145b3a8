"""One parse of Dagster's migration scripts per test process, not one per storage it opens.

A Dagster test instance keeps its event log in SQLite, one database per run; opening each (and
each new instance) asks alembic for Dagster's head revision, and alembic's `ScriptDirectory`
imports every revision script again to answer (~600 files). Profiled on tests/defs (cProfile,
CPU time): a quarter of a Dagster-level test's CPU went there. The scripts are files in the
installed package and do not change while the suite runs, so the suite keeps one
`ScriptDirectory` per script location. What each storage does with it (check, stamp, upgrade)
is unchanged; only the parsing is shared.
"""

from __future__ import annotations

import threading
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

_CACHE: dict[tuple[str, str | None], ScriptDirectory] = {}
_LOCK = threading.Lock()
_ORIGINAL = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]


def _cached_from_config(cls: type[ScriptDirectory], config: Config) -> ScriptDirectory:
    key = (
        str(config.get_main_option("script_location")),
        config.get_main_option("version_locations"),
    )
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = _ORIGINAL(cls, config)
        return found


def install() -> None:
    """Share parsed migration scripts in this process (idempotent)."""
    method: Any = classmethod(_cached_from_config)
    ScriptDirectory.from_config = method  # type: ignore[method-assign]
