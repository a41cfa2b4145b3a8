"""`EgressCeleryRunLauncher`: dagster-celery's run launcher, aware of hosts that vanish.

Runs are Celery tasks on the workers of `hostaway-pipeline worker` (deploy/celery/dagster.yaml).
dagster-celery's own launcher sees a task through its result state only, and a host that dies
leaves its task STARTED for ever: the run would hold its account's queue slot until
`run_monitoring.max_runtime_seconds`. This launcher also asks the workers which tasks they hold
(`inspect().active()`): a STARTED run whose task no live worker holds for
`lost_worker_timeout_seconds` is reported FAILED, so run monitoring fails it and run retries
launch it again. A run routed to an egress whose workers are all gone (no live consumer of its
queue) is sent to the default queue instead, which every worker serves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG, DAGSTER_CELERY_TASK_ID_TAG

from hostaway_pipeline.defs._support.private import (
    CheckRunHealthResult,
    ConfigurableClassData,
    LaunchRunContext,
    WorkerStatus,
)

# Worker replies to `inspect` are cached this long: many runs are checked per monitoring pass.
CACHE_S = 5.0
INSPECT_TIMEOUT_S = 2.0


class EgressCeleryRunLauncher(CeleryRunLauncher):
    """CeleryRunLauncher + lost-worker detection + rerouting away from egresses with no worker."""

    def __init__(
        self,
        lost_worker_timeout_seconds: int = 60,
        inst_data: ConfigurableClassData | None = None,
        **kwargs: Any,
    ) -> None:
        self.lost_worker_timeout_seconds = lost_worker_timeout_seconds
        self._missing_since: dict[str, float] = {}
        self._cache: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        super().__init__(inst_data=inst_data, **kwargs)

    @classmethod
    def config_type(cls) -> Any:
        base: dict[str, Any] = dict(super().config_type())  # type: ignore[arg-type]
        return {
            **base,
            "lost_worker_timeout_seconds": dg.Field(
                int,
                is_required=False,
                default_value=60,
                description="A STARTED run whose Celery task no live worker holds for this long "
                "is failed (and retried by run retries).",
            ),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> EgressCeleryRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    def _workers(self) -> dict[str, Any]:
        """{"active": {worker: [task, ...]}, "queues": {worker: [queue, ...]}}, cached briefly."""
        with self._lock:
            now = time.monotonic()
            if self._cache is not None and now - self._cache[0] < CACHE_S:
                return self._cache[1]
            inspect = self.celery.control.inspect(timeout=INSPECT_TIMEOUT_S)
            state = {"active": inspect.active() or {}, "queues": inspect.active_queues() or {}}
            self._cache = (time.monotonic(), state)
            return state

    def live_queues(self) -> set[str]:
        """The queues some live worker consumes."""
        return {q["name"] for qs in self._workers()["queues"].values() for q in qs}

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        queue = run.tags.get(DAGSTER_CELERY_QUEUE_TAG)
        if queue and queue != self.default_queue and queue not in self.live_queues():
            self._instance.add_run_tags(run.run_id, {DAGSTER_CELERY_QUEUE_TAG: self.default_queue})
            self._instance.report_engine_event(
                f"No live worker consumes queue {queue} (its egress's hosts are gone): the run "
                f"goes to queue {self.default_queue}, served by every worker",
                run,
                cls=self.__class__,
            )
            run = self._instance.get_run_by_id(run.run_id) or run
            context = LaunchRunContext(dagster_run=run, workspace=context.workspace)
        super().launch_run(context)

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        result = super().check_run_worker_health(run)
        if result.status in (WorkerStatus.SUCCESS, WorkerStatus.FAILED):
            self._missing_since.pop(run.run_id, None)
            return result
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        held = {t.get("id") for tasks in self._workers()["active"].values() for t in tasks}
        if task_id in held:
            self._missing_since.pop(run.run_id, None)
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        since = self._missing_since.setdefault(run.run_id, time.monotonic())
        missing_s = time.monotonic() - since
        if missing_s >= self.lost_worker_timeout_seconds:
            self._missing_since.pop(run.run_id, None)
            return CheckRunHealthResult(
                WorkerStatus.FAILED,
                f"no live Celery worker holds task {task_id} of this run for "
                f"{missing_s:.0f} s (its host was lost or its worker stopped)",
            )
        return result


class NotCelery(Exception):
    """The instance's run launcher is not Celery's (the message: its class name)."""


def launcher_settings() -> dict[str, Any]:
    """Broker, backend and Celery settings of the current instance's (DAGSTER_HOME) run
    launcher, for a worker that must consume what it sends."""
    launcher = dg.DagsterInstance.get().run_launcher
    if not isinstance(launcher, CeleryRunLauncher):
        raise NotCelery(type(launcher).__name__)
    extra = {k: v for k, v in launcher.config_source.items() if k != "task_default_queue"}
    return {"broker_url": launcher.broker, "result_backend": launcher.backend, **extra}
