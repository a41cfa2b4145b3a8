"""Profile one quiet incremental account-run as a run worker executes it.

`python -m benchmarks.profile_run [--runs N] [--out DIR] [--db-url URL]`

One account of scenario 7's size in the sandbox (own process), the warehouse and a Dagster
instance on PostgreSQL (this repository's dagster.yaml), a full sync, then N quiet incremental
runs of the sync job with `dagster job execute` (the job's in-process executor, as in a run
worker): CPU-s of each run's process from getrusage, and the connections each run opened to the
instance and warehouse databases (`pg_stat_database.sessions`); then one more run under cProfile,
written to DIR/incremental.prof (read it with `python -m pstats`). The instance database
(`<db>_profile_dagster`) is dropped and recreated; the warehouse's `hostaway` schema is rebuilt.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa
import yaml

from benchmarks.sandbox import SandboxProcess
from benchmarks.scenarios.s7_orchestration import SANDBOX
from benchmarks.warehouse import (
    default_db_url,
    drop_database,
    ensure_database,
    fresh_warehouse,
    new_secret_key,
)
from hostaway_pipeline.defs.entities.config import sync_run_config

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class RunCost:
    wall_s: float
    cpu_s: float
    sessions: dict[str, int]  # new connections per database


def _sessions(admin: sa.Engine, databases: list[str]) -> dict[str, int]:
    query = sa.text("SELECT datname, sessions FROM pg_stat_database WHERE datname = ANY(:d)")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        return {str(name): int(count) for name, count in conn.execute(query, {"d": databases})}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_run", description=__doc__)
    p.add_argument("--runs", type=int, default=3, help="quiet incremental runs to time")
    p.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="hostaway-prof-")))
    p.add_argument("--db-url", default=default_db_url())
    args = p.parse_args(argv)
    base = sa.make_url(args.db_url)
    instance_url = base.set(
        drivername="postgresql+psycopg2", database=f"{base.database}_profile_dagster"
    ).render_as_string(hide_password=False)
    drop_database(instance_url)
    ensure_database(instance_url)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    databases = [str(base.database), f"{base.database}_profile_dagster"]
    home = Path(tempfile.mkdtemp(prefix="hostaway-prof-home-"))
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    spec = replace(SANDBOX, accounts=1)
    key = new_secret_key()
    with SandboxProcess(spec) as sb:
        fresh_warehouse(args.db_url, key, sb.secrets).dispose()
        account = str(min(sb.secrets))
        env = {
            **os.environ,
            "DAGSTER_HOME": str(dagster_home),
            "DAGSTER_PG_URL": instance_url,
            "HOSTAWAY_DATABASE_URL": args.db_url,
            "HOSTAWAY_SECRET_KEY": key,
            "HOSTAWAY_API_URL": sb.url,
            "HOSTAWAY_RATE_LIMIT_PER_IP": str(spec.rate_limit_per_ip),
            "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT": str(spec.rate_limit_per_account),
            "HOSTAWAY_RATE_LIMIT_WINDOW_S": str(spec.window_s),
            "HOSTAWAY_HOME": str(home / "hostaway"),
            "PYTHONPATH": str(ROOT),  # this checkout's code, whatever the environment installed
        }
        subprocess.run(
            [str(BIN / "dagster"), "instance", "info"], env=env, check=True, capture_output=True
        )
        add = (
            "import dagster as dg; "
            f"dg.DagsterInstance.get().add_dynamic_partitions('hostaway_accounts', ['{account}'])"
        )
        subprocess.run([sys.executable, "-c", add], env=env, check=True)

        def run(mode: str, profile: Path | None = None) -> RunCost:
            config = home / f"{mode}.yaml"
            config.write_text(yaml.safe_dump(sync_run_config(mode)))
            tags = json.dumps({"dagster/partition": account, "hostaway/sync_mode": mode})
            argv = [str(BIN / "dagster"), "job", "execute", "-m", "hostaway_pipeline.definitions",
                    "-j", "hostaway_sync", "--tags", tags, "-c", str(config)]  # fmt: skip
            if profile is not None:
                argv = [sys.executable, "-m", "cProfile", "-o", str(profile), *argv]
            s0 = _sessions(admin, databases)
            r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
            done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
            wall, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
            time.sleep(0.5)  # a closed connection's backend reports its session as it exits
            s1 = _sessions(admin, databases)
            if done.returncode != 0:
                raise RuntimeError(f"{mode} run failed:\n{done.stderr[-4000:]}")
            cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
            return RunCost(wall, cpu, {db: s1.get(db, 0) - s0.get(db, 0) for db in databases})

        print(f"full sync: {run('full')}", flush=True)
        costs = [run("incremental") for _ in range(args.runs)]
        for i, cost in enumerate(costs):
            print(f"quiet incremental {i + 1}: {cost}", flush=True)
        median = sorted(c.cpu_s for c in costs)[len(costs) // 2]
        print(f"median CPU-s of a quiet incremental run's process: {median:.2f}")
        profiled = run("incremental", args.out / "incremental.prof")
        print(f"profiled: {profiled}; profile in {args.out / 'incremental.prof'}")
    admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
