"""The egress start check: the IP echo over real HTTP(S), the warehouse's record of who sends
from where, and the settings that name an egress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from hostaway_pipeline.egress import store
from hostaway_pipeline.egress.check import EgressError, check_egress, observe_address
from hostaway_pipeline.settings import Settings, SettingsError
from hostaway_pipeline.warehouse import db
from hostaway_pipeline_tests.egress.tls import self_signed
from hostaway_sandbox import SandboxServer

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(fresh_pg_url: str):  # type: ignore[no-untyped-def]
    eng = db.create_engine(fresh_pg_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


def test_the_sandbox_echo_answers_the_callers_address_over_http_and_https(tmp_path: Path) -> None:
    with SandboxServer() as plain:
        assert observe_address(plain.base_url + "/_echo/ip") == "127.0.0.1"
        assert plain.stats.total == 0  # not an API request: no rate budget, no log
    cert, key = self_signed(tmp_path, ["127.0.0.1"])
    with SandboxServer(tls=(str(cert), str(key))) as secure:
        assert secure.base_url.startswith("https://")
        with pytest.raises(EgressError, match="did not answer"):  # untrusted certificate
            observe_address(secure.base_url + "/_echo/ip")
        reply = requests.get(secure.base_url + "/_echo/ip", verify=str(cert), timeout=10)
        assert reply.json() == {"ip": "127.0.0.1"}


def test_an_echo_that_answers_no_address_is_refused() -> None:
    with SandboxServer() as server:
        with pytest.raises(EgressError, match="did not answer"):
            observe_address(server.url + "/listings")  # 403: an error status
        with pytest.raises(EgressError, match="not an address"):
            observe_address(server.base_url + "/_sandbox/health")


def test_one_egress_id_from_two_addresses_refuses_to_start(engine: sa.Engine) -> None:
    assert check_egress(engine, "egress-a", "10.0.0.1", "host-1", T0) == []
    # The same host again (a restart) is fine, and refreshes its row.
    assert check_egress(engine, "egress-a", "10.0.0.1", "host-1", T0 + timedelta(minutes=1)) == []
    with pytest.raises(EgressError) as refused:
        check_egress(engine, "egress-a", "10.0.0.2", "host-2", T0 + timedelta(minutes=2))
    message = str(refused.value)
    assert "egress egress-a" in message and "10.0.0.1" in message and "host-1" in message
    assert "--egress-id" in message
    assert [s.address for s in store.sightings(engine, T0)] == ["10.0.0.1"]  # not recorded
    # Once host-1 has been silent for the freshness window, the id may move.
    later = T0 + timedelta(minutes=1) + store.FRESH_FOR + timedelta(seconds=1)
    assert check_egress(engine, "egress-a", "10.0.0.2", "host-2", later) == []


def test_two_egress_ids_on_one_address_warn(engine: sa.Engine) -> None:
    check_egress(engine, "egress-a", "10.0.0.1", "host-1", T0)
    warnings = check_egress(engine, "egress-b", "10.0.0.1", "host-2", T0 + timedelta(minutes=1))
    assert len(warnings) == 1
    assert "egress-a" in warnings[0] and "egress-b" in warnings[0] and "10.0.0.1" in warnings[0]
    assert "429" in warnings[0]
    # A different address for another id: no warning.
    assert check_egress(engine, "egress-c", "10.0.0.3", "host-3", T0 + timedelta(minutes=2)) == []


def test_the_egress_settings() -> None:
    default = Settings.from_env({})
    assert default.egress_id == "default" and default.egress_echo_url is None
    assert default.client_config().egress_id == "default"
    chosen = Settings.from_env(
        {"HOSTAWAY_EGRESS_ID": "nat-eu-1", "HOSTAWAY_EGRESS_ECHO_URL": "https://api.ipify.org"}
    )
    assert chosen.client_config().egress_id == "nat-eu-1"
    assert chosen.egress_echo_url == "https://api.ipify.org"
    for bad in ("Egress A", "-a", "a" * 41, "a:b"):
        with pytest.raises(SettingsError, match="HOSTAWAY_EGRESS_ID"):
            Settings.from_env({"HOSTAWAY_EGRESS_ID": bad})
    with pytest.raises(SettingsError, match="HOSTAWAY_EGRESS_ECHO_URL"):
        Settings.from_env({"HOSTAWAY_EGRESS_ECHO_URL": "http://echo.example.com/"})
