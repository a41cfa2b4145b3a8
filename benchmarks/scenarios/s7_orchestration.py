"""Scenario 7: what orchestration costs per account-run, through the real daemon and run launcher.

A production-shaped deployment: `dagster-daemon run` on a PostgreSQL instance (this repository's
dagster.yaml: run queue, one run per account, default run launcher), the warehouse on PostgreSQL,
the sandbox in its own process. The account sensor adds the accounts' partitions and runs their
first full syncs; the incremental schedule then ticks every 2 minutes (instead of every 30). Once the
full syncs are done and nothing is in flight, the measured window starts; it ends at the first
moment nothing is in flight after `ticks` more schedule ticks. Nothing changes in the sandbox
meanwhile, so every measured run is a quiet incremental.

Extrapolated to a day at the production cadence (48 incremental runs per account): CPU-s per
account-run (the run workers alone, and everything: the daemon, its code server, the run workers
and the PostgreSQL backends of both databases), instance rows and bytes per account-day, and how
many accounts one 2-CPU machine serves on orchestration overhead alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml

from benchmarks.context import Context
from benchmarks.daemon import (
    BackendSampler,
    Daemon,
    folder_bytes,
    postgres_server_cpu_s,
    table_sizes,
    wait_for,
)
from benchmarks.results_model import ScenarioResult, measure
from benchmarks.sandbox import SandboxProcess, SandboxSpec
from benchmarks.warehouse import drop_database, ensure_database, fresh_warehouse

# The code the daemon runs: this checkout, or another one (HOSTAWAY_BENCH_S7_ROOT, holding its own
# workspace.yaml, dagster.yaml and hostaway_pipeline/) to measure an older version the same way.
ROOT = Path(os.environ.get("HOSTAWAY_BENCH_S7_ROOT") or Path(__file__).resolve().parents[2])
BIN = Path(sys.executable).parent
RUNS_PER_DAY = 48  # */30 * * * *
# The benchmark's cadence: every 2 minutes leaves a 2-CPU host time to drain a tick's 20 runs
# (and the queue to be empty between ticks, where the window's ends are measured).
CRON, SMOKE_CRON = "*/2 * * * *", "* * * * *"
MACHINE_CPU_S_PER_DAY = 2 * 86_400
IN_FLIGHT = [
    dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING,
]  # fmt: skip
# Per-deployment bookkeeping, not growing with accounts: reported apart from the per-account rows.
DEPLOYMENT_TABLES = {"job_ticks", "kvs", "daemon_heartbeats", "instigators", "jobs"}

# The measurement: 20 listings, 200 reservations, 60 conversations per account.
SANDBOX = SandboxSpec(
    accounts=20, listings=20, reservations=200, conversation_ratio=0.3,
    messages_per_conversation=3, rate_limit_per_ip=60, rate_limit_per_account=60, window_s=1.0,
    token_activation_delay_s=0.05,
)  # fmt: skip
SMOKE = SandboxSpec(
    accounts=2, listings=2, reservations=6, conversation_ratio=0.5, messages_per_conversation=1,
    rate_limit_per_ip=60, rate_limit_per_account=60, window_s=1.0, token_activation_delay_s=0.05,
    latency_ms=(5.0, 10.0),
)  # fmt: skip


def _spec(ctx: Context) -> tuple[SandboxSpec, int]:
    spec = ctx.pick(SANDBOX, SMOKE)
    accounts = int(os.environ.get("HOSTAWAY_BENCH_S7_ACCOUNTS", spec.accounts))
    ticks = int(os.environ.get("HOSTAWAY_BENCH_S7_TICKS", ctx.pick(3, 1)))
    return replace(spec, accounts=accounts), ticks


def run(ctx: Context) -> ScenarioResult:
    spec, ticks = _spec(ctx)
    base = sa.make_url(ctx.db_url)
    instance_url = base.set(drivername="postgresql+psycopg2", database=f"{base.database}_dagster")
    drop_database(instance_url.render_as_string(hide_password=False))
    ensure_database(instance_url.render_as_string(hide_password=False))
    home = Path(tempfile.mkdtemp(prefix="hostaway-bench-s7-"))
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with SandboxProcess(spec) as sb:
        fresh_warehouse(ctx.db_url, ctx.key, sb.secrets).dispose()
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(home)),
            "LANG": "C.UTF-8",
            "DAGSTER_HOME": str(dagster_home),
            "DAGSTER_PG_URL": instance_url.render_as_string(hide_password=False),
            "HOSTAWAY_DATABASE_URL": ctx.db_url,
            "HOSTAWAY_SECRET_KEY": ctx.key,
            "HOSTAWAY_API_URL": sb.url,
            "HOSTAWAY_RATE_LIMIT_PER_IP": str(spec.rate_limit_per_ip),
            "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT": str(spec.rate_limit_per_account),
            "HOSTAWAY_RATE_LIMIT_WINDOW_S": str(spec.window_s),
            "HOSTAWAY_HOME": str(home / "hostaway"),
            "HOSTAWAY_INCREMENTAL_CRON": ctx.pick(CRON, SMOKE_CRON),
            "HOSTAWAY_FULL_CRON": "0 3 1 1 *",
        }
        os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]  # read by the instance here
        instance = dg.DagsterInstance.from_config(str(dagster_home))
        storage = sa.create_engine(instance_url)
        daemon = Daemon(
            [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
            env, ROOT, home / "daemon.log",
        )  # fmt: skip
        admin = base.set(database="postgres").render_as_string(hide_password=False)
        try:
            with BackendSampler(admin, [str(instance_url.database), str(base.database)]) as pg:
                return _measure(ctx, spec, ticks, instance, storage, daemon, pg, sb, dagster_home)
        except Exception as exc:
            raise RuntimeError(f"{exc}\n--- daemon log tail:\n{daemon.tail()}") from exc
        finally:
            daemon.stop()
            storage.dispose()
            instance.dispose()


def _records(instance: dg.DagsterInstance, **kw: Any) -> list[Any]:
    return list(instance.get_run_records(dg.RunsFilter(job_name="hostaway_sync", **kw)))


def _idle(instance: dg.DagsterInstance) -> bool:
    return not instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT), limit=1)


def _ran_in_process(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run's executor ran its steps in the run worker (its engine event says so)."""
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    return any("Executing steps in process" in (e.user_message or "") for e in events)


def _measure(
    ctx: Context, spec: SandboxSpec, ticks: int, instance: dg.DagsterInstance,
    storage: sa.Engine, daemon: Daemon, pg: BackendSampler, sb: SandboxProcess,
    dagster_home: Path,
) -> ScenarioResult:  # fmt: skip
    n = spec.accounts
    setup_started = time.monotonic()
    wait_for(
        lambda: len(_records(instance, statuses=[dg.DagsterRunStatus.SUCCESS],
                             tags={"hostaway/sync_mode": "full"})) >= n,
        ctx.pick(1200, 300), f"the first full sync of {n} accounts", every_s=2,
    )  # fmt: skip
    full_runs = _records(instance, tags={"hostaway/sync_mode": "full"})
    wait_for(lambda: _idle(instance), 1200, "no run in flight", every_s=0.5)
    setup_s = time.monotonic() - setup_started
    cpu0, pg0, sizes0 = daemon.cpu(), pg.total_s(), table_sizes(storage)
    server0 = postgres_server_cpu_s()
    logs0, requests0 = folder_bytes(dagster_home / "storage"), sb.stats()["total"]
    before = {r.dagster_run.run_id for r in _records(instance)}

    def ticks_seen() -> int:
        keys = {
            r.dagster_run.tags.get("dagster/run_key", "").rsplit(":", 1)[-1]
            for r in _records(instance, tags={"hostaway/sync_mode": "incremental"})
            if r.dagster_run.run_id not in before
        }
        return len(keys)

    wait_for(lambda: ticks_seen() >= ticks, 180 * ticks + 180, f"{ticks} schedule ticks", 2)
    wait_for(lambda: _idle(instance), 900, "the ticks' runs to finish", every_s=0.2)
    cpu1, pg1, sizes1 = daemon.cpu(), pg.total_s(), table_sizes(storage)
    server1 = postgres_server_cpu_s()
    logs1, requests1 = folder_bytes(dagster_home / "storage"), sb.stats()["total"]
    window_s = cpu1.at - cpu0.at
    measured = [r for r in _records(instance) if r.dagster_run.run_id not in before]
    statuses = Counter(r.dagster_run.status.value for r in measured)
    modes = Counter(r.dagster_run.tags.get("hostaway/sync_mode") for r in measured)
    runs = len(measured)
    if not runs:
        raise RuntimeError("no run in the measured window")
    in_process = sum(1 for r in measured if _ran_in_process(instance, r.dagster_run.run_id))

    workers = (cpu1.run_workers_s - cpu0.run_workers_s) / runs
    dagster = (cpu1.total_s - cpu0.total_s) / runs
    sampled = (pg1 - pg0) / runs  # our long-lived backends: a lower bound
    # The whole server's exited backends: includes Dagster's connection-per-query start-ups, and
    # any other user of this PostgreSQL (an upper bound on a shared host).
    server = (server1 - server0) / runs if server0 is not None and server1 is not None else 0.0
    postgres = max(sampled, server)
    everything = dagster + postgres
    grown = {t: (sizes1[t][0] - sizes0.get(t, (0, 0))[0], sizes1[t][1] - sizes0.get(t, (0, 0))[1])
             for t in sizes1}  # fmt: skip
    per_account = {t: g for t, g in grown.items() if t not in DEPLOYMENT_TABLES}
    rows_day = sum(r for r, _ in per_account.values()) / runs * RUNS_PER_DAY
    bytes_day = sum(b for _, b in per_account.values()) / runs * RUNS_PER_DAY
    logs_day = (logs1 - logs0) / runs * RUNS_PER_DAY
    ticks_day = grown.get("job_ticks", (0, 0))[0] / window_s * 86_400
    event_rows = grown.get("event_logs", (0, 0))[0] / runs
    capacity = MACHINE_CPU_S_PER_DAY / (RUNS_PER_DAY * everything)
    capacity_no_pg = MACHINE_CPU_S_PER_DAY / (RUNS_PER_DAY * dagster)
    details = [
        {"table": t, "rows per account-run": round(r / runs, 1), "bytes per account-run": round(b / runs)}
        for t, (r, b) in sorted(grown.items()) if r or b
    ]  # fmt: skip
    return ScenarioResult(
        id=7,
        title=f"Orchestration cost, {n} accounts, {ticks} schedule ticks via dagster-daemon",
        measures=[
            measure(
                "CPU-s per quiet incremental account-run, run worker",
                round(workers, 2),
                " CPU-s",
                "<=",
                4,
            ),
            measure(
                "CPU-s per account-run, everything (daemon, code server, run worker, PostgreSQL)",
                round(everything, 2),
                " CPU-s",
            ),
            measure(
                "accounts one 2-CPU machine serves at */30, PostgreSQL on it too",
                int(capacity),
                "",
                ">=",
                1000,
            ),
            measure(
                "accounts per 2-CPU machine, PostgreSQL on another host",
                int(capacity_no_pg),
                "",
                ">=",
                1000,
            ),
            measure("runs per account-day at */30", RUNS_PER_DAY),
            measure("instance rows per account-day", int(rows_day)),
            measure(
                "instance MB per account-day (tables + indexes)", round(bytes_day / 1e6, 2), " MB"
            ),
            measure("compute-log MB per account-day", round(logs_day / 1e6, 2), " MB"),
            measure("event_logs rows per account-run", round(event_rows, 1)),
        ],
        details=details,
        settings={
            "accounts": n,
            "data per account": f"{spec.listings} listings, {spec.reservations} reservations, "
            f"{int(spec.reservations * spec.conversation_ratio)} conversations",
            "limits (sandbox and client)": f"{spec.rate_limit_per_ip}/IP, "
            f"{spec.rate_limit_per_account}/account per {spec.window_s:g} s",
            "setup (first full syncs)": f"{len(full_runs)} runs, {setup_s:.0f} s",
            "measured window": f"{window_s:.0f} s, {runs} runs ({dict(statuses)}; modes {dict(modes)})",
            "measured runs whose steps ran in the run worker's process": f"{in_process} of {runs}",
            "API requests per measured run": round((requests1 - requests0) / runs, 1),
            "CPU-s per run: daemon + code server": round(dagster - workers, 2),
            "CPU-s per run: PostgreSQL, our sampled backends (lower bound)": round(sampled, 2),
            "CPU-s per run: PostgreSQL, whole server's exited backends (upper bound)": round(
                server, 2
            ),
            "schedule and sensor ticks per day (per deployment)": int(ticks_day),
        },
        notes=[
            "Everything in the window is divided by the runs in it, so the daemon's fixed cost "
            "(sensor ticks every 30 s, the run queue, heartbeats) is charged to 20 accounts' "
            "runs; with more accounts per tick it is shared more thinly (conservative).",
        ],
    )
