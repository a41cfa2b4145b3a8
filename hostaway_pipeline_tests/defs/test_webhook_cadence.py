"""Polling as the safety net, through the schedules' and checks' real evaluation on PostgreSQL.

Healthy webhooks (registered, an event within a day, nothing missed) relax an account's
incremental cadence; changes polling finds that the webhooks should have carried put it back on the
normal cadence and make the `webhooks_quiet` check warn, naming it, until events arrive again.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs.accounts.freshness import FRESHNESS_JOB_NAME
from hostaway_pipeline.defs.accounts.schedules import FULL_SCHEDULE, INCREMENTAL_SCHEDULE
from hostaway_pipeline.defs.webhooks.checks import CHECK_NAME
from hostaway_pipeline.runs.runner import run_sync
from hostaway_pipeline.settings import Settings, SettingsError
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline.webhooks.store import events as inbox
from hostaway_pipeline.webhooks.store.registrations import record_registered
from hostaway_pipeline_tests.support.dagster_runs import age, schedule_tick
from hostaway_pipeline_tests.support.dagster_runs import evaluate as freshness
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, LOGIN, PASSWORD
from hostaway_sandbox import SandboxServer

HOOKS = "/v1/webhooks/unifiedWebhooks"


def requested(defs: dg.Definitions, instance: dg.DagsterInstance, when: datetime,
              name: str = INCREMENTAL_SCHEDULE) -> tuple[list[int], str]:  # fmt: skip
    data = schedule_tick(defs, instance, name, when)
    return sorted(int(r.partition_key or 0) for r in data.run_requests or []), str(
        data.skip_message or ""
    )


def assets_of(defs: dg.Definitions, instance: dg.DagsterInstance, when: datetime,
              account: int) -> set[str]:  # fmt: skip
    """The asset names the incremental tick at `when` asks of `account`'s run."""
    data = schedule_tick(defs, instance, INCREMENTAL_SCHEDULE, when)
    (req,) = [r for r in data.run_requests or [] if r.partition_key == str(account)]
    assert req.asset_selection is not None
    return {k.path[-1] for k in req.asset_selection}


def quiet_check(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, dg.AssetCheckEvaluation]:  # fmt: skip
    result = defs.resolve_job_def(FRESHNESS_JOB_NAME).execute_in_process(instance=instance)
    assert result.success
    return {
        e.asset_key.path[-1]: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == CHECK_NAME
    }


def quiet_ids(evaluation: dg.AssetCheckEvaluation) -> list[int]:
    return list(evaluation.metadata["quiet_accounts"].value)  # type: ignore[arg-type]


def old_event(wired: Wired, account: int, reservation: dict[str, object], at: datetime) -> None:
    """An event the receiver stored `at` (the healthy past), not yet applied."""
    envelope = {"object": "reservation", "event": "reservation.updated", "accountId": account,
                "data": reservation}  # fmt: skip
    with wired.engine.begin() as conn:
        inbox.store_event(conn, f"test-{at.timestamp()}", account, "reservation",
                          "reservation.updated", int(reservation["id"]),  # type: ignore[call-overload]
                          json.dumps(envelope), now=at)  # fmt: skip


def test_healthy_webhooks_relax_the_incremental_and_quiet_ones_restore_it_with_a_warning(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer,
    accounts: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    hooked, plain = map(int, accounts)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    record_registered(
        wired.engine, hooked, 1, "https://hooks.example/h", now=now - timedelta(hours=2)
    )
    assert all(o.success for o in run_sync(defs, instance, [hooked, plain], "full"))
    # Before any event: registered is not enough.
    assert requested(defs, instance, now)[0] == [hooked, plain]
    old_event(wired, hooked, sandbox.state.reservations(hooked)[0], now - timedelta(minutes=30))

    capsys.readouterr()
    assert requested(defs, instance, now)[0] == [plain]
    why = capsys.readouterr().err  # the schedule logs each skipped account's reason
    assert f"account {hooked}: webhooks healthy" in why and "every 60 min" in why
    assert requested(defs, instance, now + timedelta(minutes=30))[0] == [plain]
    assert requested(defs, instance, now + timedelta(minutes=60))[0] == [hooked, plain]
    # The hourly safety net leaves out the conversation list (and messages) until its own
    # cadence (240 min) is due; the plain account syncs them every run.
    hourly = assets_of(defs, instance, now + timedelta(minutes=60), hooked)
    assert {"listings", "reservations"} <= hourly and not {"messages", "conversations"} & hourly
    assert {"messages", "conversations"} <= assets_of(defs, instance, now + timedelta(minutes=60), plain)  # fmt: skip
    swept = assets_of(defs, instance, now + timedelta(minutes=240), hooked)
    assert {"listings", "reservations", "messages", "conversations"} <= swept
    assert requested(defs, instance, now, FULL_SCHEDULE)[0] == [hooked, plain]  # never relaxed
    assert not any(quiet_ids(e) for e in quiet_check(defs, instance).values())
    # Freshness widens its windows for the relaxed account only.
    hot = ("listings", "reservations", "messages")  # conversations are recorded with messages
    for stream in hot:
        for account in (hooked, plain):
            age(wired, account, stream, timedelta(minutes=70))
    stale = {
        name: e.metadata["stale_accounts"].value for name, e in freshness(defs, instance).items()
    }
    for name in (*hot, "conversations"):
        assert stale[name] == [plain], name
    assert requested(defs, instance, now)[0] == [hooked, plain]  # 70 min since its last sync

    # The webhooks go quiet (nothing is registered on the sandbox side) while the account changes.
    conv = sandbox.state.conversations(hooked)[0]
    changed = [r["id"] for r in sandbox.state.reservations(hooked)[1:3]]
    for rid in changed:
        sandbox.state.update_reservation(hooked, rid, guestNote="changed while quiet")
    sandbox.state.add_message(hooked, conv["id"], body="anyone there?")
    assert all(o.success for o in run_sync(defs, instance, [hooked], "incremental"))
    checks = quiet_check(defs, instance)
    assert set(checks) == {"reservations", "messages"}
    for name, evaluation in checks.items():
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN, name
        assert quiet_ids(evaluation) == [hooked] and str(hooked) in (evaluation.description or "")
    ids, _ = requested(defs, instance, now + timedelta(minutes=1))
    assert ids == [hooked, plain]  # back on the normal cadence though it just synced

    # Events arrive again (over HTTP, through the receiver): healthy and relaxed again.
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        body = {"isEnabled": 1, "url": receiver.url, "login": LOGIN, "password": PASSWORD}
        assert sandbox.webhooks.handle(hooked, "POST", HOOKS, body)[0] == 200
        before = _received(wired, hooked)
        sandbox.state.update_reservation(hooked, changed[0], guestNote="hello again")
        _wait_for(lambda: _received(wired, hooked) > before, sandbox)
    assert not any(quiet_ids(e) for e in quiet_check(defs, instance).values())
    capsys.readouterr()
    assert requested(defs, instance, datetime.now(UTC) + timedelta(minutes=1))[0] == [plain]
    assert f"account {hooked}: webhooks healthy" in capsys.readouterr().err


def _received(wired: Wired, account: int) -> int:
    with wired.engine.connect() as conn:
        return sum(1 for e in inbox.pending(conn, account, 1000))


def _wait_for(condition: object, sandbox: SandboxServer) -> None:
    import time

    from hostaway_pipeline_tests import waits

    deadline = time.monotonic() + waits.PROCESS_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"no delivery arrived: {sandbox.webhooks.log}"
        time.sleep(0.05)


def test_a_relaxed_cadence_no_slower_than_the_schedule_changes_nothing(
    settings: Settings, instance: dg.DagsterInstance, wired: Wired, accounts: list[str],
) -> None:  # fmt: skip
    from dataclasses import replace

    from hostaway_pipeline.definitions import build_definitions

    defs = build_definitions(
        replace(settings, webhook_incremental_minutes=30, webhook_conversation_minutes=30)
    )
    hooked = int(accounts[0])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    record_registered(
        wired.engine, hooked, 1, "https://hooks.example/h", now=now - timedelta(hours=1)
    )
    assert requested(defs, instance, now)[0] == sorted(map(int, accounts))


@pytest.mark.parametrize("raw", ["0", "-5", "1441", "hourly"])
@pytest.mark.parametrize(
    "name", ["HOSTAWAY_WEBHOOK_INCREMENTAL_MINUTES", "HOSTAWAY_WEBHOOK_CONVERSATION_MINUTES"]
)
def test_the_relaxed_cadence_settings_are_validated(raw: str, name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw})
    defaults = Settings.from_env({})
    assert (defaults.webhook_incremental_minutes, defaults.webhook_conversation_minutes) == (60, 240)  # fmt: skip
    assert Settings.from_env({"HOSTAWAY_WEBHOOK_INCREMENTAL_MINUTES": "120"}).webhook_incremental_minutes == 120  # fmt: skip
    assert Settings.from_env({"HOSTAWAY_WEBHOOK_CONVERSATION_MINUTES": "360"}).webhook_conversation_minutes == 360  # fmt: skip


@pytest.mark.parametrize("raw", ["0", "366", "monthly"])
def test_the_hooked_reverification_period_is_validated(raw: str) -> None:
    name = "HOSTAWAY_WEBHOOK_MESSAGE_REVERIFY_DAYS"
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw})
    assert Settings.from_env({}).webhook_reverify_days == 30
    assert Settings.from_env({name: "7"}).webhook_reverify_days == 7


def _reverify_slice(instance: dg.DagsterInstance, account: int) -> int:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["hostaway", "messages"]), asset_partitions=[str(account)]
        ),
        limit=1,
    ).records
    event = records[0].asset_materialization
    assert event is not None
    return int(event.metadata["reverify_slice"].value)  # type: ignore[arg-type]


def test_a_healthy_account_reverifies_its_messages_over_the_longer_period(
    settings: Settings, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer,
    accounts: list[str],
) -> None:  # fmt: skip
    # The sandbox's few dozen conversations would be re-read whole by every full sync
    # (HOSTAWAY_FULL_REREAD_MAX_REQUESTS); 0 keeps them on the slice, as 1,500 would be.
    defs = build_definitions(replace(settings, full_reread_max_requests=0))
    hooked, plain = map(int, accounts)
    now = datetime.now(UTC)
    record_registered(wired.engine, hooked, 1, "https://hooks.example/h", now=now - timedelta(hours=2))  # fmt: skip
    assert all(o.success for o in run_sync(defs, instance, [hooked, plain], "full"))
    old_event(wired, hooked, sandbox.state.reservations(hooked)[0], now - timedelta(minutes=30))
    assert all(o.success for o in run_sync(defs, instance, [hooked, plain], "full"))
    # HOSTAWAY_WEBHOOK_MESSAGE_REVERIFY_DAYS (30) for the healthy one, _MESSAGE_REVERIFY_DAYS (7)
    # for the other: a slice of ceil(conversations / days) each full sync.
    for account, days in ((hooked, 30), (plain, 7)):
        conversations = len(sandbox.state.conversations(account))
        assert conversations > 7
        assert _reverify_slice(instance, account) == -(-conversations // days), account


def test_an_account_that_syncs_no_messages_is_still_skipped_between_relaxed_runs(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer,
    accounts: list[str],
) -> None:  # fmt: skip
    hooked, plain = map(int, accounts)
    wired.repo.set_entities(hooked, ["listings", "reservations"])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    record_registered(wired.engine, hooked, 1, "https://hooks.example/h", now=now - timedelta(hours=2))  # fmt: skip
    assert all(o.success for o in run_sync(defs, instance, [hooked, plain], "full"))
    old_event(wired, hooked, sandbox.state.reservations(hooked)[0], now - timedelta(minutes=30))
    # No messages synced ever: no conversation sweep is due to wake it up every tick.
    assert requested(defs, instance, now + timedelta(minutes=30))[0] == [plain]
    assert requested(defs, instance, now + timedelta(minutes=60))[0] == [hooked, plain]
