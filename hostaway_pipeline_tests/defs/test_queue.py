"""Whether `sync` queues: decided by the run queue daemon's heartbeat in the instance."""

from __future__ import annotations

import time

import dagster as dg
from dagster._daemon.types import DaemonHeartbeat

from hostaway_pipeline.runs.queue import HEARTBEAT_TOLERANCE_S, QUEUE_DAEMON, daemon_serves


def beat(instance: dg.DagsterInstance, daemon_type: str, at: float) -> None:
    instance.add_daemon_heartbeat(DaemonHeartbeat(at, daemon_type, "test-daemon", errors=[]))


def test_only_a_recent_run_queue_heartbeat_means_a_daemon_serves_the_instance(
    instance: dg.DagsterInstance,
) -> None:
    now = time.time()
    assert not daemon_serves(instance, now)  # the embedded demo: nobody ever dequeued
    beat(instance, "SCHEDULER", now)
    assert not daemon_serves(instance, now)  # a scheduler alone does not work the queue
    beat(instance, QUEUE_DAEMON, now - HEARTBEAT_TOLERANCE_S - 1)
    assert not daemon_serves(instance, now)  # a daemon that stopped
    beat(instance, QUEUE_DAEMON, now - 5)
    assert daemon_serves(instance, now)
