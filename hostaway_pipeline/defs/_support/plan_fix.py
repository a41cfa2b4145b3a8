"""A fix for Dagster 1.13.27's step planner: a run must never spin on a step it already resolved.

`ActiveExecution.plan_events_iterator` (dagster/_core/execution/plan/active.py) settles steps
that cannot run in two passes: first those to skip (an upstream step succeeded without the output
they need: here, an entity that was not due), then those to abandon (an upstream step failed). A
step whose last unresolved upstream step is abandoned *in the second pass* and which also has a
skipped input lands in the skip list after that pass ended; the executor then finds nothing to
run and nothing to settle, and loops in `inner_plan_execution_iterator` forever: the run stays
STARTED and holds its account's one-run slot. It happens whenever an account's step fails in a
run whose selection includes a step over many assets (the freshness check, a mart), which is what
the UI's Materialize all launches (hostaway_pipeline_tests/defs/test_ui_selections.py reproduces it).

The fix repeats the two passes until neither has work left; Dagster's own code does the work.
Imported by definitions.py, so every process that loads the code location (run workers
included) runs with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hostaway_pipeline.defs._support.private import ActiveExecution, DagsterEvent

_ORIGINAL = ActiveExecution.plan_events_iterator


def _settle_until_done(self: ActiveExecution, job_context: Any) -> Iterator[DagsterEvent]:
    while True:
        yield from _ORIGINAL(self, job_context)
        self._update()  # what the passes resolved may have made more steps skippable
        if not (self._pending_skip or self._pending_abandon):
            return


def apply() -> None:
    """Install the fix (idempotent)."""
    if getattr(ActiveExecution.plan_events_iterator, "__name__", "") != _settle_until_done.__name__:
        ActiveExecution.plan_events_iterator = _settle_until_done  # type: ignore[method-assign]
