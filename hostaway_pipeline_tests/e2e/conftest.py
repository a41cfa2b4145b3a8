"""A production-shaped deployment for the end-to-end tests.

`dagster-webserver` and `dagster-daemon run` as separate processes, on a PostgreSQL Dagster
instance (a DAGSTER_HOME with the project's dagster.yaml, its database reset once per session),
a PostgreSQL warehouse, and the sandbox playing Hostaway over real HTTP (short rate window).

Under pytest-xdist (`./dev test`: `--dist loadgroup`) every test of this folder runs on one worker
(support/xdist_groups.py), so the session's deployment starts once and two deployments never
share two CPUs; the group is sent first, so it starts while the other worker runs the rest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import requests
import sqlalchemy as sa
import yaml
from cryptography.fernet import Fernet
from dagster_graphql import DagsterGraphQLClient

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.warehouse import db
from hostaway_pipeline_tests.conftest import _ensure_database
from hostaway_pipeline_tests.e2e.gate import AccountGate
from hostaway_pipeline_tests.e2e.processes import Service, wait_for
from hostaway_pipeline_tests.e2e.runs import RUNS_S, runs
from hostaway_pipeline_tests.support import code_server
from hostaway_pipeline_tests.support.databases import relax_durability
from hostaway_sandbox import SandboxServer, SeedSpec

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _recreate_database(url: sa.URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        relax_durability(conn, str(url.database))
    admin.dispose()


def instance_yaml(pg_env: str = "DAGSTER_PG_URL") -> str:
    """The project's dagster.yaml, checked to take its storage from the environment."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    storage = config["storage"]["custom"]  # dagster-postgres with pooled connections
    assert storage["class"] == "PooledPostgresStorage"
    assert storage["config"] == {"postgres_url_env": pg_env}
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class Deployment:
    sandbox: SandboxServer
    env: dict[str, str]
    web_port: int
    instance: dg.DagsterInstance
    warehouse: sa.Engine
    services: list[Service] = field(default_factory=list)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run `hostaway-pipeline ARGS` as an operator would; its output."""
        done = subprocess.run(
            [str(BIN / "hostaway-pipeline"), *args],
            env={**self.env, **(env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"hostaway-pipeline {' '.join(args)}: {done.stderr}"
        return done.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.tail()}" for s in self.services)

    def repo(self) -> AccountRepo:
        """The deployment's accounts, as its warehouse holds them."""
        return AccountRepo(self.warehouse, SecretBox(self.env["HOSTAWAY_SECRET_KEY"]))


@contextmanager
def deployed(
    pg_url: str,
    home: Path,
    name: str,
    seed: SeedSpec,
    extra_env: dict[str, str] | None = None,
    accounts_first: bool = False,
) -> Iterator[Deployment]:
    """dagster-webserver and dagster-daemon on their own PostgreSQL instance and warehouse
    (databases named after `name`, reset first), the sandbox seeded with `seed`.

    `accounts_first`: every sandbox account is registered with the CLI before the daemon starts,
    as an operator who adds accounts first and deploys second, so the account sensor's first tick
    (when the daemon starts) finds them, instead of one 30 s interval later."""
    base = sa.engine.make_url(pg_url)
    warehouse_url = base.set(database=f"{base.database}_{name}")
    instance_url = base.set(
        drivername="postgresql+psycopg2", database=f"{base.database}_{name}_dagster"
    )
    _recreate_database(instance_url)
    _ensure_database(warehouse_url.render_as_string(hide_password=False))
    warehouse = db.create_engine(warehouse_url.render_as_string(hide_password=False))
    with warehouse.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS hostaway CASCADE"))

    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(instance_yaml())
    sandbox = SandboxServer(
        seed=seed,
        rate_limit_per_ip=15,
        rate_limit_per_account=20,
        window_s=1.0,
        token_activation_delay_s=0.05,
    )
    sandbox.start()
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(home)),
        "LANG": "C.UTF-8",
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_URL": instance_url.render_as_string(hide_password=False),
        "HOSTAWAY_DATABASE_URL": warehouse_url.render_as_string(hide_password=False),
        "HOSTAWAY_SECRET_KEY": Fernet.generate_key().decode(),
        "HOSTAWAY_API_URL": sandbox.url,
        "HOSTAWAY_RATE_LIMIT_WINDOW_S": "1",
        "HOSTAWAY_HOME": str(home / "hostaway"),
        **(extra_env or {}),
    }
    saved = os.environ.get("DAGSTER_PG_URL")
    os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]  # read by the instance in this process
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    web_port = _free_port()
    deployment = Deployment(sandbox, env, web_port, instance, warehouse)
    # The production layout (support/code_server.py). Everything runs in the deployment's own
    # folder: Dagster reads `.env` from its working directory (run workers too), and a test may
    # put one in the checkout (ui/test_ui.py).
    workspace_yaml, code_server_argv = code_server.workspace(home)
    workspace = str(workspace_yaml)
    logs = ARTIFACTS / name
    try:
        if accounts_first:
            add_accounts(deployment)
        deployment.services.append(
            Service("code-server", code_server_argv, env, home, logs / "code-server.log")
        )
        wait_for(lambda: code_server.answers(home), 90, "the code server to answer on its socket")
        deployment.services.append(
            Service(
                "dagster-webserver",
                [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", workspace],
                env, home, logs / "webserver.log",
            )
        )  # fmt: skip
        deployment.services.append(
            Service(
                "dagster-daemon",
                [str(BIN / "dagster-daemon"), "run", "-w", workspace],
                env, home, logs / "daemon.log",
            )
        )  # fmt: skip

        def webserver_up() -> bool:
            try:
                return requests.get(f"{deployment.web_url}/server_info", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(webserver_up, 90, "dagster-webserver to answer /server_info")
        yield deployment
    finally:
        # The webserver and the daemon first, then the code server they use.
        survivors = {s.name: s.stop() for s in reversed(deployment.services)}
        sandbox.stop()
        instance.dispose()
        warehouse.dispose()
        if saved is None:
            os.environ.pop("DAGSTER_PG_URL", None)
        else:
            os.environ["DAGSTER_PG_URL"] = saved
        assert not any(survivors.values()), f"processes left running: {survivors}"


def register_accounts(deployment: Deployment) -> list[str]:
    """Every sandbox account, registered with the CLI once the daemon runs (its sensor then
    adds their partitions and starts their first full syncs)."""
    needed = {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"}
    wait_for(
        lambda: needed <= set(deployment.instance.get_daemon_heartbeats()),
        90,
        "the daemon's sensor, scheduler and run queue heartbeats",
    )
    assert deployment.instance.get_dynamic_partitions(ACCOUNTS_NAME) == []
    return add_accounts(deployment)


def add_accounts(deployment: Deployment) -> list[str]:
    """`hostaway-pipeline accounts add` for every sandbox account; their partition keys."""
    keys = []
    for account_id in deployment.sandbox.state.account_ids():
        secret = {"E2E_CLIENT_SECRET": deployment.sandbox.state.secret(account_id)}
        out = deployment.cli("accounts", "add", str(account_id), "--client-secret-env", "E2E_CLIENT_SECRET", env=secret)  # fmt: skip
        assert "registered" in out
        keys.append(str(account_id))
    return keys


@pytest.fixture(scope="package")
def deployment(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    seed = SeedSpec(accounts=2, listings=5, reservations=20, messages_per_conversation=2)
    # A tick every minute, so the test sees one without waiting half an hour.
    every_minute = {"HOSTAWAY_INCREMENTAL_CRON": "* * * * *"}
    with deployed(pg_url, tmp_path_factory.mktemp("e2e"), "e2e", seed, every_minute) as found:
        yield found


@pytest.fixture(scope="package")
def gate(deployment: Deployment) -> Iterator[AccountGate]:
    """Holds both accounts' API answers until `graphql_runs` opens it (see e2e/gate.py)."""
    gate = AccountGate(deployment.sandbox, deployment.sandbox.state.account_ids())
    gate.close()
    try:
        yield gate
    finally:
        gate.open()


@pytest.fixture(scope="package")
def accounts(deployment: Deployment, gate: AccountGate) -> list[str]:
    """Both sandbox accounts, registered with the CLI once the daemon runs (no partitions yet)."""
    return register_accounts(deployment)


@pytest.fixture(scope="package")
def graphql_runs(deployment: Deployment, accounts: list[str], gate: AccountGate) -> list[str]:
    """Two runs of the first account submitted over GraphQL while its first full sync runs.

    Both accounts' first syncs are held at the gate until these are submitted and each sync has
    an answer waiting there (so both are in progress at once); then the gate opens.
    """
    key = accounts[0]
    wait_for(
        lambda: key in deployment.instance.get_dynamic_partitions(ACCOUNTS_NAME),
        90,
        f"the partition of {key}",  # an unknown partition would be queued, then fail
    )
    wait_for(
        lambda: [
            r
            for r in runs(deployment, **{"dagster/partition": key})
            if r.dagster_run.status == dg.DagsterRunStatus.STARTED
        ],
        RUNS_S,  # a run worker importing the project, on a loaded machine
        f"the sensor's full sync of {key} to start",
        every_s=0.5,
    )
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)
    try:
        # Tagged as the UI tags a partition's run: no hostaway/* tags, only the partition.
        submitted = [
            client.submit_job_execution(
                SYNC_JOB_NAME, run_config=sync_run_config(mode), tags={"dagster/partition": key}
            )
            for mode in ("full", "incremental")
        ]
        wait_for(
            gate.all_held,
            RUNS_S,
            "both accounts' first syncs to be in progress at once (runs of different accounts"
            f" must not queue behind each other); answers held so far: {dict(gate.held)}",
            every_s=0.5,
        )
        # Read while the gate is still closed (no sync can finish): the instance's own record of
        # which runs of each account are in progress now.
        gate.in_progress = {
            k: [
                r.dagster_run.run_id
                for r in runs(deployment, **{"dagster/partition": k})
                if r.dagster_run.status == dg.DagsterRunStatus.STARTED
            ]
            for k in accounts
        }
    finally:
        gate.open()
    return submitted
