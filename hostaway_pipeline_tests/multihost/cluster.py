"""A multi-host deployment in network namespaces: the sandbox on one "host", a Celery worker per
egress on the others, the Dagster daemon (with the Celery run launcher) on the machine itself.

PostgreSQL and a private Redis are reached over their Unix sockets from every namespace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml
from celery import Celery
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.warehouse import db
from hostaway_pipeline_tests.e2e.processes import Service, wait_for
from hostaway_pipeline_tests.egress.tls import self_signed
from hostaway_pipeline_tests.multihost.netns import Hosts

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts" / "multihost"
# The sandbox's limits: Hostaway's 15 per IP and 20 per account, on a 5 s window (3/s per IP):
# short enough for a quick test, long enough that a loaded 2-CPU host keeps up with two egresses.
PER_IP, PER_ACCOUNT, WINDOW_S = 15, 20, 5.0
ACCOUNTS = 6
# Test-sized run monitoring: a lost worker's run is failed after LOST_S + one POLL_S.
LOST_S, POLL_S = 10, 5


def socket_dir(pg_url: str) -> str | None:
    """A Unix socket directory of the test PostgreSQL (reachable from every namespace)."""
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            dirs = conn.execute(sa.text("SHOW unix_socket_directories")).scalar_one()
    finally:
        engine.dispose()
    found = [
        d.strip() for d in str(dirs or "").split(",") if d.strip() and Path(d.strip()).is_dir()
    ]
    return found[0] if found else None


def over_socket(url: sa.URL, driver: str, database: str, sockets: str) -> str:
    return (
        url.set(drivername=driver, database=database, host=None, port=None)
        .update_query_dict({"host": sockets})
        .render_as_string(hide_password=False)
    )


def instance_yaml(egresses: int) -> str:
    """deploy/celery/dagster.yaml with test-sized monitoring (the shipped file, otherwise)."""
    config = yaml.safe_load((ROOT / "deploy" / "celery" / "dagster.yaml").read_text())
    config["run_launcher"]["config"]["lost_worker_timeout_seconds"] = LOST_S
    config["run_monitoring"]["poll_interval_seconds"] = POLL_S
    config["concurrency"]["runs"]["max_concurrent_runs"] = 2 * egresses  # 2 slots per egress
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class Cluster:
    hosts: Hosts
    folder: Path
    env: dict[str, str]
    cert: Path
    sandbox_port: int
    secrets: dict[int, str]
    warehouse: sa.Engine
    instance: dg.DagsterInstance
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def egresses(self) -> dict[str, str]:
        """Egress id -> its namespace."""
        return {f"w{i}": ns for i, ns in enumerate(self.hosts.clients, start=1)}

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """A sandbox admin call from inside its namespace (admin answers loopback only)."""
        code = (
            "import json,ssl,sys,urllib.request as u;"
            "c=ssl.create_default_context(cafile=sys.argv[3]);"
            "d=sys.argv[2].encode() if sys.argv[2] else None;"
            "r=u.Request(sys.argv[1],data=d,headers={'Content-Type':'application/json'});"
            "print(u.urlopen(r,context=c,timeout=30).read().decode())"
        )
        url = f"https://127.0.0.1:{self.sandbox_port}{path}"
        argv = [sys.executable, "-c", code, url, json.dumps(body) if body else "", str(self.cert)]
        done = subprocess.run(
            self.hosts.argv(self.hosts.server, argv), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def start(self, name: str, argv: list[str], ns: str | None = None) -> Service:
        command = self.hosts.argv(ns, argv) if ns else argv
        service = Service(name, command, self.env, ROOT, ARTIFACTS / f"{name}.log")
        self.services[name] = service
        return service

    def celery(self) -> Celery:
        broker = self.env["HOSTAWAY_CELERY_BROKER"]
        return Celery("probe", broker=broker, backend=broker)

    def repo(self) -> AccountRepo:
        return AccountRepo(self.warehouse, SecretBox(self.env["HOSTAWAY_SECRET_KEY"]))

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{s.tail(60)}" for n, s in self.services.items())


@dataclass(frozen=True)
class Seed:
    """The sandbox's accounts and limits."""

    accounts: int = ACCOUNTS
    listings: int = 3
    reservations: int = 24
    window_s: float = WINDOW_S
    entities: str = "listings,reservations,messages"
    latency_ms: str = "0-0"  # the sandbox's answer latency, e.g. 80-150
    # The window the clients pace for: on a short window, production's absolute slack (0.3 s of
    # 10 s) needs a little more than the sandbox's window (the client's floor is 0.1 s).
    client_window_s: float | None = None


def start_cluster(
    pg_url: str, sockets: str, folder: Path, hosts: Hosts, seed: Seed | None = None
) -> Cluster:
    seed = seed or Seed()
    base = sa.engine.make_url(pg_url)
    names = (f"{base.database}_egress", f"{base.database}_egress_dagster")
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    warehouse_url = over_socket(base, "postgresql+psycopg", names[0], sockets)
    instance_url = over_socket(base, "postgresql+psycopg2", names[1], sockets)
    home = folder / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml(len(hosts.clients)))
    server = hosts.address[hosts.server]
    cert, key = self_signed(folder, [server, "127.0.0.1"])
    redis_socket = folder / "redis.sock"
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(folder)),
        "LANG": "C.UTF-8",
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": instance_url,
        "HOSTAWAY_CELERY_BROKER": f"redis+socket://{redis_socket}",
        "HOSTAWAY_DATABASE_URL": warehouse_url,
        "HOSTAWAY_SECRET_KEY": Fernet.generate_key().decode(),
        "HOSTAWAY_RATE_LIMIT_PER_IP": str(PER_IP),
        "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT": str(PER_ACCOUNT),
        "HOSTAWAY_RATE_LIMIT_WINDOW_S": str(seed.client_window_s or seed.window_s),
        "HOSTAWAY_ENTITIES": seed.entities,
        "HOSTAWAY_HOME": str(folder / "hostaway"),
        "REQUESTS_CA_BUNDLE": str(cert),
    }
    warehouse = db.create_engine(warehouse_url)
    db.upgrade(warehouse)
    cluster = Cluster(hosts, folder, env, cert, 0, {}, warehouse, None)  # type: ignore[arg-type]
    cluster.start(
        "redis",
        ["redis-server", "--port", "0", "--unixsocket", str(redis_socket), "--unixsocketperm",
         "700", "--save", "", "--appendonly", "no", "--dir", str(folder)],
    )  # fmt: skip
    # All interfaces of its own namespace: the bridge for workers, loopback for admin calls.
    sandbox = cluster.start(
        "sandbox",
        [sys.executable, "-m", "hostaway_sandbox", "--host", "0.0.0.0", "--json",  # noqa: S104
         "--tls-cert", str(cert), "--tls-key", str(key), "--accounts", str(seed.accounts),
         "--listings", str(seed.listings), "--reservations", str(seed.reservations),
         "--messages-per-conversation", "2", "--latency-ms", seed.latency_ms,
         "--rate-limit-per-ip", str(PER_IP), "--rate-limit-per-account", str(PER_ACCOUNT),
         "--window-s", str(seed.window_s), "--token-activation-delay-s", "0.05"],
        hosts.server,
    )  # fmt: skip

    def described() -> dict[str, Any] | None:
        for line in sandbox.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                return dict(json.loads(line))
        return None

    info = wait_for(described, 120, "the sandbox to start", every_s=0.3)
    wait_for(redis_socket.exists, 60, "redis to listen", every_s=0.2)
    cluster.sandbox_port = int(info["url"].rsplit(":", 1)[1].split("/")[0])
    cluster.secrets = {int(k): v for k, v in info["accounts"].items()}
    api = f"https://{server}:{cluster.sandbox_port}"
    env["HOSTAWAY_API_URL"] = f"{api}/v1"
    env["HOSTAWAY_EGRESS_ECHO_URL"] = f"{api}/_echo/ip"
    os.environ["DAGSTER_PG_URL"] = instance_url  # this process reads the instance too
    cluster.instance = dg.DagsterInstance.from_config(str(home))
    return cluster


def start_workers(cluster: Cluster) -> None:
    for egress, ns in cluster.egresses.items():
        cluster.start(
            f"worker-{egress}",
            [str(BIN / "hostaway-pipeline"), "worker", "--egress-id", egress, "-c", "2",
             "--heartbeat-seconds", "5", "--loglevel", "WARNING"],
            ns,
        )  # fmt: skip
    from hostaway_pipeline.egress.store import live_egresses

    wait_for(
        lambda: live_egresses(cluster.warehouse) == sorted(cluster.egresses),
        180,
        f"every worker to report its egress\n{cluster.logs()}",
    )

    def consuming() -> bool:
        replies = cluster.celery().control.inspect(timeout=2).active_queues() or {}
        queues = {q["name"] for qs in replies.values() for q in qs}
        return {f"egress-{e}" for e in cluster.egresses} <= queues

    wait_for(consuming, 180, "every worker to consume its egress queue")


def stop_cluster(cluster: Cluster) -> list[str]:
    survivors = []
    for name, service in reversed(list(cluster.services.items())):
        survivors += [f"{name}: {s}" for s in service.stop(grace_s=5)]
    if cluster.instance is not None:
        cluster.instance.dispose()
    cluster.warehouse.dispose()
    time.sleep(0)
    return survivors
