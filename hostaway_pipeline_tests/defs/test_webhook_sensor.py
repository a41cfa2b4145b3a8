"""The webhook sensor and job, really executed: pending events -> one run per account -> applied."""

from __future__ import annotations

import dagster as dg
import requests
import sqlalchemy as sa

from hostaway_pipeline.account_ids import account_key
from hostaway_pipeline.defs.partitions import ACCOUNTS_NAME
from hostaway_pipeline.defs.webhook_sensor import WEBHOOK_JOB_NAME
from hostaway_pipeline.sandbox import SandboxServer
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline_tests.defs.test_sensors import tick
from hostaway_pipeline_tests.helpers import Wired
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, LOGIN, PASSWORD


def test_sensor_launches_one_run_per_account_with_pending_events_and_the_run_applies_them(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    first, second = sandbox.state.account_ids()
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [account_key(first), account_key(second)])
    assert not tick(defs, instance, "webhook_sensor").run_requests  # nothing pending
    rid = sandbox.state.reservations(first)[0]["id"]
    row = sandbox.state.update_reservation(first, rid, guestNote="late arrival")
    event = {"object": "reservation", "event": "reservation.updated", "accountId": first,
             "data": row}  # fmt: skip
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        for _ in range(2):  # a duplicate delivery
            reply = requests.post(receiver.url, json=event, auth=(LOGIN, PASSWORD), timeout=30)
            assert reply.status_code == 200

    (request,) = tick(defs, instance, "webhook_sensor").run_requests or []
    assert request.partition_key == account_key(first)
    result = defs.resolve_job_def(WEBHOOK_JOB_NAME).execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=dict(request.tags)
    )
    assert result.success
    (materialization,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = materialization.event_specific_data.metadata  # type: ignore[union-attr]
    assert metadata["events_applied"].value == 1
    assert metadata["duplicates"].value == 1
    assert metadata["api_requests"].value == 0
    assert metadata["lag_max_s"].value >= 0
    query = "SELECT payload->>'guestNote' FROM hostaway.reservations WHERE account_id=:a AND id=:i"
    with wired.engine.connect() as conn:
        stored = conn.execute(sa.text(query), {"a": first, "i": rid}).scalar_one()
    assert stored == "late arrival"
    assert not tick(defs, instance, "webhook_sensor").run_requests  # all applied
