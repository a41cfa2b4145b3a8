"""The schedules as the daemon evaluates them: one run per schedulable account per tick."""

from __future__ import annotations

import dagster as dg
import pytest

from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs._support.tags import ACCOUNT_TAG, MODE_TAG, TRIGGER_TAG
from hostaway_pipeline.defs.accounts.schedules import FULL_SCHEDULE, INCREMENTAL_SCHEDULE
from hostaway_pipeline.settings import Settings
from hostaway_pipeline_tests.support.dagster_runs import queue_run, schedule_tick
from hostaway_pipeline_tests.support.wiring import Wired


@pytest.mark.parametrize(
    ("name", "mode"), [(INCREMENTAL_SCHEDULE, "incremental"), (FULL_SCHEDULE, "full")]
)
def test_each_tick_requests_one_run_per_active_account(
    defs: dg.Definitions, instance: dg.DagsterInstance, accounts: list[str], name: str, mode: str
) -> None:
    data = schedule_tick(defs, instance, name)

    requests = data.run_requests or []
    assert [r.partition_key for r in requests] == accounts
    for request in requests:
        key = request.partition_key
        assert request.run_key == f"{mode}:{key}:20261128T1430"
        assert request.tags[ACCOUNT_TAG] == key
        assert request.tags[MODE_TAG] == mode
        assert request.tags[TRIGGER_TAG] == name
        assert request.tags["dagster/schedule_name"] == name
        assert {op["config"]["mode"] for op in request.run_config["ops"].values()} == {mode}
    again = schedule_tick(defs, instance, name)
    assert [r.run_key for r in again.run_requests or []] == [r.run_key for r in requests]


def test_crons_come_from_the_environment(settings: Settings) -> None:
    defaults = build_definitions(settings).get_repository_def()
    assert defaults.get_schedule_def(INCREMENTAL_SCHEDULE).cron_schedule == "*/30 * * * *"
    assert defaults.get_schedule_def(FULL_SCHEDULE).cron_schedule == "0 3 * * *"
    env = {"HOSTAWAY_INCREMENTAL_CRON": "*/5 * * * *", "HOSTAWAY_FULL_CRON": "15 2 * * 0"}
    custom = build_definitions(Settings.from_env(env)).get_repository_def()
    assert custom.get_schedule_def(INCREMENTAL_SCHEDULE).cron_schedule == "*/5 * * * *"
    assert custom.get_schedule_def(FULL_SCHEDULE).cron_schedule == "15 2 * * 0"
    for schedule in custom.schedule_defs:
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_disabled_and_rejected_accounts_are_skipped_with_a_reason(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    accounts: list[str],
    wired: Wired,
    capsys: pytest.CaptureFixture[str],
) -> None:
    disabled, rejected = map(int, accounts)
    wired.repo.disable(disabled)
    wired.repo.record_error(rejected, "AuthError: rejected", credentials_rejected=True)

    data = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)

    assert not data.run_requests
    assert data.skip_message is not None
    assert f"account {disabled}: disabled" in data.skip_message
    assert f"account {rejected}: Hostaway rejected its credentials" in data.skip_message
    assert f"accounts set-secret {rejected}" in data.skip_message
    logged = capsys.readouterr().err
    assert f"account {disabled}: disabled" in logged
    assert f"account {rejected}: Hostaway rejected its credentials" in logged

    wired.repo.enable(disabled)
    data = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)
    assert [r.partition_key for r in data.run_requests or []] == [str(disabled)]


def test_accounts_without_a_partition_wait_for_the_sensor(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired
) -> None:
    data = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)
    assert not data.run_requests
    assert "no partition yet" in (data.skip_message or "")


def test_a_queued_run_that_covers_the_tick_is_not_queued_again(
    defs: dg.Definitions, instance: dg.DagsterInstance, accounts: list[str]
) -> None:
    first, second = accounts
    queue_run(defs, instance, first, "incremental", tagged=False)

    incremental = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)
    assert [r.partition_key for r in incremental.run_requests or []] == [second]
    full = schedule_tick(defs, instance, FULL_SCHEDULE)  # an incremental does not cover a full
    assert [r.partition_key for r in full.run_requests or []] == accounts

    queue_run(defs, instance, second, "full")
    incremental = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)
    full = schedule_tick(defs, instance, FULL_SCHEDULE)
    assert "covers this one" in (incremental.skip_message or "")
    assert [r.partition_key for r in full.run_requests or []] == [first]


def test_a_started_run_does_not_hold_back_the_next_tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, accounts: list[str]
) -> None:
    # It may have paged past newer changes already: the tick's run queues behind it.
    queue_run(defs, instance, accounts[0], "incremental", status=dg.DagsterRunStatus.STARTED)
    data = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE)
    assert [r.partition_key for r in data.run_requests or []] == accounts
