"""The embedded Dagster instance's dagster.yaml (the demo's, `ui`'s and the CLI's without a
DAGSTER_HOME of the operator's): SQLite in DAGSTER_HOME, as Dagster's default, with an engine per
database file instead of one per query (runs/sqlite_storage.py); no telemetry, no newsletter
dialog over the UI. Without Dagster imports: `ui` writes it before starting `dagster dev`."""

from __future__ import annotations

from pathlib import Path

EMBEDDED_INSTANCE = """\
storage:
  custom:
    module: hostaway_pipeline.runs.sqlite_storage
    class: EmbeddedSqliteStorage
    config:
      base_dir:
        env: DAGSTER_HOME
telemetry:
  enabled: false
nux:
  enabled: false
"""
# What earlier versions wrote: replaced. Any other file is the operator's own and left alone.
EARLIER_EMBEDDED = (
    "telemetry:\n  enabled: false\n",
    "telemetry:\n  enabled: false\nnux:\n  enabled: false\n",
)


def write_embedded_config(dagster_home: Path) -> None:
    """dagster.yaml in `dagster_home` (an existing private folder), unless it is the operator's."""
    config = dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text() in EARLIER_EMBEDDED:
        config.write_text(EMBEDDED_INSTANCE)
