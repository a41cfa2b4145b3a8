"""Where a step's API request lines go: the compute log, not the event log.

Every `context.log` line is a row in the instance's event log and an event streamed to the UI, so
one line per API request made the event log grow with API traffic (60-120 rows for a quiet
incremental, ~1,500 for a full sync). Request lines go to a plain Python logger writing to the
step's stderr, which Dagster captures into the run's compute log (the UI's "stdout/stderr" tab).
Lines at WARNING and above (failed attempts, retries, 429s) are also forwarded to `context.log`, so
errors and retries stay in the event log; the run summary and the materializations are there too.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg

REQUEST_LOGGER = "hostaway_pipeline.requests"
# Lowest level of request lines written to stderr. `hostaway-pipeline sync` runs in its own
# process, where Dagster's capture also copies stderr to the terminal: it sets WARNING there.
LEVEL_TAG = "hostaway/request_log_level"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class _ForwardToDagster(logging.Handler):
    """Re-emits records on the step's Dagster logger (the event log)."""

    def __init__(self, target: logging.Logger, level: int) -> None:
        super().__init__(level)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.target.log(record.levelno, record.getMessage())
        except Exception:  # a logging failure must never fail the sync
            self.handleError(record)


class _StepStderr(logging.Handler):
    """Writes to whatever `sys.stderr` is at emit time (Dagster captures it into the compute log)."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def request_logger(context: dg.AssetExecutionContext, account_id: int) -> logging.Logger:
    """The logger for one step's API request lines of `account_id`.

    Lines at the run's LEVEL_TAG level (default DEBUG) and up go to stderr (the compute log);
    WARNING and up also to the event log. Handlers are replaced on every call, so a long-lived
    process (the CLI runs accounts one after the other) never forwards to a finished step's logger.
    """
    name = context.run.tags.get(LEVEL_TAG, "DEBUG").upper()
    level = logging.getLevelName(name) if name in _LEVELS else logging.DEBUG
    log = logging.getLogger(f"{REQUEST_LOGGER}.{account_id}")
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    log.setLevel(logging.DEBUG)
    log.addHandler(_StepStderr(level))
    log.addHandler(_ForwardToDagster(context.log, logging.WARNING))
    return log
