"""Choosing what to sync: names, dependencies, HOSTAWAY_ENTITIES and the per-account override,
down to the requests the sandbox sees from `hostaway-pipeline sync` (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hostaway_pipeline.catalog.selection import resolve, selectable, with_dependencies
from hostaway_pipeline.cli import main
from hostaway_pipeline.settings import Settings, SettingsError
from hostaway_pipeline_tests.support.sandboxes import client_env
from hostaway_sandbox import SandboxServer
from hostaway_sandbox.stats import TOKEN_PATH, endpoint_of

CORE = {"listings", "reservations", "conversations", "messages"}
CORE_ENDPOINTS = {
    "/v1/listings", "/v1/reservations", "/v1/conversations", "/v1/conversations/{id}/messages",
}  # fmt: skip


@pytest.mark.parametrize(
    ("chosen", "implied"),
    [
        ({"messages"}, {"messages", "conversations"}),
        ({"conversations"}, {"conversations", "messages"}),  # listed only by the messages step
        ({"listing_calendar"}, {"listing_calendar", "listings"}),
        ({"reservation_finance_fields"}, {"reservation_finance_fields", "reservations"}),
        # The mart brings what it reads, and the calendar brings its parent.
        (
            {"listing_monthly_stats"},
            {
                "listing_monthly_stats",
                "reservations",
                "listing_calendar",
                "listings",
                "reservation_finance_fields",
            },
        ),
        ({"tasks", "countries"}, {"tasks", "countries"}),
    ],
)
def test_a_selection_brings_what_its_entities_need(chosen: set[str], implied: set[str]) -> None:
    assert with_dependencies(chosen) == implied


def test_an_account_override_wins_over_the_default_and_none_means_everything() -> None:
    assert resolve(None, None) == set(selectable())
    assert resolve(frozenset({"listings"}), None) == {"listings"}
    assert resolve(frozenset({"listings"}), frozenset({"messages"})) == {
        "messages",
        "conversations",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("all", None), (" listings , messages ", frozenset({"listings", "messages"}))],
)
def test_hostaway_entities_is_read_from_the_environment(
    value: str, expected: frozenset[str] | None
) -> None:
    assert Settings.from_env({"HOSTAWAY_ENTITIES": value}).entities == expected


def test_unknown_entity_names_are_refused_at_start_up_by_name() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"HOSTAWAY_ENTITIES": "listings,bookings,guests"})
    message = str(err.value)
    assert "HOSTAWAY_ENTITIES" in message and "bookings, guests" in message
    assert "reservations" in message  # the known names, to pick from


@pytest.fixture
def env(
    fresh_pg_url: str, secret_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    sandbox: SandboxServer,
) -> dict[str, str]:  # fmt: skip
    values = {
        "HOSTAWAY_DATABASE_URL": fresh_pg_url,
        "HOSTAWAY_SECRET_KEY": secret_key,
        "HOSTAWAY_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "HOSTAWAY_API_URL": sandbox.url,
        **client_env(sandbox),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_sync_requests_only_the_selected_entities_endpoints(
    env: dict[str, str], sandbox: SandboxServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first, second = sandbox.state.account_ids()
    for account in (first, second):
        monkeypatch.setenv("ACCT_SECRET", sandbox.state.secret(account))
        assert main(["accounts", "add", str(account), "--client-secret-env", "ACCT_SECRET"]) == 0
    # The second account reads only its guest messages (their conversations come with them).
    assert main(["accounts", "entities", str(second), "--only", "messages"]) == 0
    assert main(["accounts", "entities", str(second), "--only", "messages,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    selected = {**os.environ, **env, "HOSTAWAY_ENTITIES": ",".join(sorted(CORE))}
    sync = subprocess.run(
        [sys.executable, "-m", "hostaway_pipeline.cli", "sync", "--all", "--mode", "full"],
        env=selected, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert sync.returncode == 0, sync.stderr[-2000:]
    asked: dict[int, set[str]] = {first: set(), second: set()}
    for record in sandbox.stats.log:
        if record.path != TOKEN_PATH and record.account_id is not None:
            asked[record.account_id].add(endpoint_of(record.path))
    assert asked[first] == CORE_ENDPOINTS
    assert asked[second] == {"/v1/conversations", "/v1/conversations/{id}/messages"}
    assert "hostaway/listing_monthly_stats" not in sync.stdout  # a mart nobody selected

    bad = subprocess.run(
        [sys.executable, "-m", "hostaway_pipeline.cli", "accounts", "list"],
        env={**selected, "HOSTAWAY_ENTITIES": "listings,bookings"}, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "bookings" in bad.stderr

    monkeypatch.setenv("HOSTAWAY_ENTITIES", ",".join(sorted(CORE)))
    assert main(["accounts", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert (
        "entities=conversations,listings,messages,reservations unavailable=none  polling=normal  "
        in lines[str(first)]
    )
    assert "entities=messages unavailable=none  polling=normal  " in lines[str(second)]
    assert main(["accounts", "entities", str(second), "--all"]) == 0
    assert main(["accounts", "list"]) == 0
    assert "entities=messages" not in capsys.readouterr().out
