"""Every import of Dagster's private modules (`dagster._*`) in the project, in one place.

Dagster 1.13.27 does not export these publicly; each is pinned with the Dagster set
(pyproject.toml) and is the first thing to check on an upgrade. The names Dagster has already
loaded when `dagster` is imported are imported here; the others (the workspace, the event log's
tables) are imported on first use, so loading the definitions does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Instance plugins (runs/instance_storage.py, runs/celery_launcher.py).
from dagster._config.config_schema import UserConfigSchema

# The step planner a run executes with (defs/_support/plan_fix.py).
from dagster._core.events import DagsterEvent
from dagster._core.execution.plan.active import ActiveExecution
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClassData

# Cron arithmetic (defs/webhooks/cadence.py, runs/budget.py).
from dagster._utils.schedules import cron_string_iterator, get_smallest_cron_interval

if TYPE_CHECKING:
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.remote_representation.external import RemoteJob
    from dagster._core.storage.event_log import SqliteEventLogStorage
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
        INDEX_SHARD_NAME,
        SQLITE_BUSY_TIMEOUT_SECONDS,
    )
    from dagster._core.storage.runs import SqliteRunStorage
    from dagster._core.storage.schedules import SqliteScheduleStorage
    from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

# Imported on first use: name -> module.
_LAZY = {
    # Submitting runs through a workspace like the UI does (runs/queue.py).
    "RemoteJob": "dagster._core.remote_representation.external",
    "WorkspaceProcessContext": "dagster._core.workspace.context",
    "InProcessWorkspaceLoadTarget": "dagster._core.workspace.load_target",
    "InProcessCodeLocationOrigin": "dagster._core.remote_origin",
    "LoadableTargetOrigin": "dagster._core.types.loadable_target_origin",
    # Deleting a run's asset check rows, which delete_run leaves (defs/maintenance/cleanup.py).
    "AssetCheckExecutionsTable": "dagster._core.storage.event_log.schema",
    "SqlEventLogStorage": "dagster._core.storage.event_log.sql_event_log",
    # The embedded instance's SQLite storage, an engine per file (runs/sqlite_storage.py).
    "DagsterSqliteStorage": "dagster._core.storage.sqlite_storage",
    "SqliteEventLogStorage": "dagster._core.storage.event_log",
    "SqliteRunStorage": "dagster._core.storage.runs",
    "SqliteScheduleStorage": "dagster._core.storage.schedules",
    "INDEX_SHARD_NAME": "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "SQLITE_BUSY_TIMEOUT_SECONDS": "dagster._core.storage.event_log.sqlite.sqlite_event_log",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "INDEX_SHARD_NAME",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "ActiveExecution",
    "AssetCheckExecutionsTable",
    "CheckRunHealthResult",
    "ConfigurableClassData",
    "DagsterEvent",
    "DagsterSqliteStorage",
    "InProcessCodeLocationOrigin",
    "InProcessWorkspaceLoadTarget",
    "LaunchRunContext",
    "LoadableTargetOrigin",
    "RemoteJob",
    "SqlEventLogStorage",
    "SqliteEventLogStorage",
    "SqliteRunStorage",
    "SqliteScheduleStorage",
    "UserConfigSchema",
    "WorkerStatus",
    "WorkspaceProcessContext",
    "cron_string_iterator",
    "get_smallest_cron_interval",
    "pg_config",
]
