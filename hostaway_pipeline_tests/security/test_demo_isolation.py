"""`demo` and `ui` never touch production, whatever the shell exports.

A shell set up for production (as the README's command-line section does) exports the warehouse
URL (with a password), the key, the home, DAGSTER_HOME and the API URL. The demo runs in a
subprocess under that environment; the production database (a real PostgreSQL database with
accounts, one of them sharing an id with a sandbox account) is dumped before and after and must
be identical, nothing production is printed, and the UI's account sensor, evaluated with the
environment `ui` gives `dagster dev`, requests runs for sandbox accounts only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.cli.demo import isolated_environ, ui_command
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.warehouse import db
from hostaway_pipeline_tests.conftest import PROD_PASSWORD
from hostaway_pipeline_tests.support.http import CatchAll
from hostaway_pipeline_tests.support.wiring import dump_schema

PROD_ACCOUNTS = {777001: "prod-secret-777001", 10001: "prod-secret-10001"}
BIN = Path(sys.executable).parent

SENSOR_PROBE = """
import json
import dagster as dg
from hostaway_pipeline.definitions import build_definitions
from hostaway_pipeline.runs.runner import instance_for
from hostaway_pipeline.settings import Settings
settings = Settings.from_env()
defs = build_definitions(settings)
instance = instance_for(settings)
repo = defs.get_repository_def()
sensor = repo.get_sensor_def("account_sensor")
resources = {k: v for k, v in repo.get_top_level_resources().items()
             if k in sensor.required_resource_keys}
with dg.build_sensor_context(
    instance_ref=instance.get_ref(), definitions=defs, resources=resources
) as context:
    result = sensor.evaluate_tick(context)
    accounts = [a.account_id for a in context.resources.warehouse.accounts().list_accounts()]
print(json.dumps({
    "backend": settings.database_url.split(":", 1)[0],
    "home": str(settings.home),
    "dagster_home": str(instance.root_directory),
    "partitions": sorted(r.partition_key for r in result.run_requests or []),
    "accounts": sorted(str(a) for a in accounts),
    "known": sorted(instance.get_dynamic_partitions("hostaway_accounts")),
}))
"""


@pytest.mark.slow  # the whole demo in a subprocess, paced at its sandbox's rate limit (~1-2 min)
def test_demo_and_ui_sensor_leave_a_production_warehouse_untouched(
    prod_url: str, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    engine = db.create_engine(prod_url)
    db.upgrade(engine)
    box = SecretBox(key)
    repo = AccountRepo(engine, box)
    for account_id, secret in PROD_ACCOUNTS.items():
        repo.add(account_id, secret)
    now = datetime.now(UTC)
    SqlTokenStore(engine, box).save_token(
        "https://api.hostaway.com", 777001, StoredToken("prod-token", now, now + timedelta(days=9))
    )
    engine.dispose()
    before = dump_schema(prod_url)
    assert len(before["accounts"]) == 2 and len(before["access_tokens"]) == 1

    demo_home, prod_home, prod_dagster = tmp_path / "demo", tmp_path / "prod", tmp_path / "dh"
    with CatchAll() as production_api:
        prod_env = {
            **os.environ,
            "HOSTAWAY_DATABASE_URL": prod_url,
            "HOSTAWAY_SECRET_KEY": key,
            "HOSTAWAY_HOME": str(prod_home),
            "DAGSTER_HOME": str(prod_dagster),
            "HOSTAWAY_API_URL": production_api.url,
        }
        demo = subprocess.run(
            [str(BIN / "hostaway-pipeline"), "demo", "--port", "0", "--home", str(demo_home)],
            env=prod_env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]

        _, ui_env, _ = ui_command(3999, "http://127.0.0.1:9/v1", demo_home)
        assert ui_env == isolated_environ(demo_home, "http://127.0.0.1:9/v1", prod_env)
        probe = subprocess.run(
            [sys.executable, "-c", SENSOR_PROBE],
            env=ui_env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stderr[-3000:]
        assert production_api.requests == []

    output = demo.stdout + demo.stderr
    first_line = demo.stdout.splitlines()[0]
    assert first_line.startswith("demo: isolated in") and "are ignored" in first_line
    for secret in (PROD_PASSWORD, key, prod_url, "_prod", *PROD_ACCOUNTS.values()):
        assert secret not in output
    assert dump_schema(prod_url) == before
    assert not prod_home.exists() and not prod_dagster.exists()
    assert (demo_home / "warehouse.sqlite").exists()

    sensed = json.loads(probe.stdout.strip().splitlines()[-1])
    assert sensed["backend"] == "sqlite" and sensed["home"] == str(demo_home.resolve())
    assert Path(sensed["dagster_home"]).resolve() == (demo_home / "dagster").resolve()
    # The sensor read the demo's warehouse and instance: the demo's accounts, registered and
    # already fully synced by the demo (so no new sync is launched for them), none of production.
    assert sensed["accounts"] == sensed["known"] == ["10001", "10002", "10003"]
    assert sensed["partitions"] == []
    for name, value in ui_env.items():
        assert value not in (prod_url, key, str(prod_home), str(prod_dagster), production_api.url)
        assert PROD_PASSWORD not in value, name
    assert dump_schema(prod_url) == before
