"""Where a sync's log lines land: request lines in the compute log, summaries and retries in the
event log. A real run on a real instance; both logs are read back from the instance's storage."""

from __future__ import annotations

import re

import dagster as dg

from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer

REQUEST_LINE = re.compile(r"^(GET|POST) /\S* \S+ \d+ms attempt=")


def _compute_log(instance: dg.DagsterInstance, run_id: str) -> str:
    """The stderr Dagster captured for the run's steps (in process: one capture for all)."""
    captured = instance.all_logs(run_id, of_type=dg.DagsterEventType.LOGS_CAPTURED)
    assert captured, "the run captured no compute logs"
    text = []
    for entry in captured:
        data = entry.dagster_event.logs_captured_data  # type: ignore[union-attr]
        log_key = instance.compute_log_manager.build_log_key_for_run(run_id, data.file_key)
        logs = instance.compute_log_manager.get_log_data(log_key)
        text.append((logs.stderr or b"").decode())
    return "\n".join(text)


def test_request_lines_go_to_the_compute_log_and_retries_to_the_event_log(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [str(account)])
    sandbox.faults.queue("429", 1, path="/reservations")  # one retried request
    result = defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        run_config=sync_run_config("full"), instance=instance, partition_key=str(account)
    )
    assert result.success
    requests = [r for r in sandbox.stats.log if r.path.startswith("/v1/") and r.status == 200]
    assert len(requests) >= 5

    compute = _compute_log(instance, result.run_id)
    events = instance.all_logs(result.run_id)
    event_text = "\n".join(e.user_message or "" for e in events)

    # Every successful API request is one line in the compute log, with its request id ...
    for path in ("GET /listings 200", "GET /reservations 200", "GET /conversations 200"):
        assert path in compute, path
    assert compute.count(" 200 ") >= len(requests)
    # ... and only the failed attempt is in the event log, beside Dagster's events and summaries.
    in_event_log = [m for m in event_text.splitlines() if REQUEST_LINE.match(m)]
    assert len(in_event_log) == 1 and "GET /reservations 429" in in_event_log[0], in_event_log
    assert f"account {account} reservations full sync done" in event_text
    assert "GET /reservations 429" in compute  # the compute log has the whole story
    # Lines of the run's own logging: a handful, not one per request.
    plain = [e for e in events if e.dagster_event is None]
    assert len(plain) < len(requests) / 2, [e.user_message for e in plain]
