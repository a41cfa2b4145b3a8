"""Resources are built once from Settings: later environment changes and runs do not re-read it,
and the warehouse migration check runs once per process, not once per step or tick."""

from __future__ import annotations

import dagster as dg
import pytest

from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.defs.resources import Hostaway, Warehouse
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import db


def _resource(defs: dg.Definitions, name: str) -> object:
    with dg.build_resources({name: defs.resources[name]}) as built:  # type: ignore[index]
        return getattr(built, name)


def test_resources_come_from_the_settings_they_were_built_with(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = build_definitions(settings)
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", "garbage-that-would-fail")
    monkeypatch.setenv("HOSTAWAY_API_URL", "https://attacker.example/v1")
    monkeypatch.setenv("HOSTAWAY_DATABASE_URL", "sqlite:////nonexistent/x.sqlite")
    warehouse = _resource(defs, "warehouse")
    hostaway = _resource(defs, "hostaway")
    assert isinstance(warehouse, Warehouse) and isinstance(hostaway, Hostaway)
    assert hostaway.config.base_url == settings.api_url
    assert hostaway.config.rate_limit_per_ip == settings.rate_limit_per_ip
    warehouse.accounts().list_accounts()  # opens with the settings' key and database
    assert "attacker" not in repr(hostaway) and settings.secret_key not in repr(warehouse)


def test_the_migration_check_runs_once_per_process_per_warehouse(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = db.upgrade
    monkeypatch.setattr(db, "upgrade", lambda engine: calls.append(str(engine.url)) or real(engine))
    db.forget_upgrades()
    for _ in range(3):  # three steps, ticks or runs in one process, each with its own resources
        defs = build_definitions(settings)
        warehouse = _resource(defs, "warehouse")
        assert isinstance(warehouse, Warehouse)
        warehouse.get_engine()
        warehouse.release()
    assert len(calls) == 1
