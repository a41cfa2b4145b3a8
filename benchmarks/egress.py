"""Egresses: requests per second with 1, 2 and 3 egress IPs, and CPU per run in a warm worker.

    python -m benchmarks.egress [--db-url URL] [--egresses 1,2,3] [--rounds 3]

Needs root and `ip netns` (each egress is a network namespace with its own address), a
`redis-server`, and a PostgreSQL with a Unix socket (its databases `<db>_egress*` are dropped).
For each N: the sandbox in its own namespace (Hostaway's 15 requests per 10 s per source IP and
20 per account, 80-150 ms latency), N worker namespaces running `hostaway-pipeline worker` (2 slots each), the
daemon with deploy/celery/dagster.yaml, the same 6 accounts (3 listings, 60 reservations, ~50
conversations each; listings, reservations, messages): their first full syncs through the
account sensor. Rate = answered requests / (last - first request), as a ratio to one IP's
floor (1.5 requests/s); target >= 0.9 x N.

Then, on the last N: quiet incremental syncs of the 6 accounts, `--rounds` times, queued to the
warm workers (CPU of every process in the worker namespaces, before and after), against the same
runs each executed by a fresh `dagster api execute_run` process (what the default run launcher
starts per run; its own CPU from wait4). Target <= 1.5 CPU-s per run in a warm worker.
Results: benchmarks/results/egress.json and egress.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import psutil

from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.egress.routing import egress_tags
from hostaway_pipeline.runs.queue import queue_sync
from hostaway_pipeline_tests.multihost import netns
from hostaway_pipeline_tests.multihost.cluster import (
    BIN,
    PER_IP,
    Cluster,
    Seed,
    socket_dir,
    start_cluster,
    start_workers,
    stop_cluster,
)
from hostaway_pipeline_tests.support.databases import ensure_database

RESULTS = Path(__file__).resolve().parent / "results"
SEED = Seed(accounts=6, listings=3, reservations=60, window_s=10.0, latency_ms="80-150")
DEFAULT_DB = "postgresql+psycopg://root@127.0.0.1:5432/hostaway_bench"


def _wait(probe: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise TimeoutError(what)


def _done(cluster: Cluster, run_ids: list[str]) -> bool:
    runs = [cluster.instance.get_run_by_id(r) for r in run_ids]
    finished = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}
    return all(r is not None and r.status in finished for r in runs)


def _all_succeeded(cluster: Cluster, count: int) -> bool:
    runs = cluster.instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB_NAME))
    failed = [r.run_id for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
    if failed:
        raise RuntimeError(f"runs failed: {failed}")
    return sum(r.status == dg.DagsterRunStatus.SUCCESS for r in runs) >= count


def _worker_cpu(cluster: Cluster) -> float:
    """CPU seconds of every process in the worker namespaces (with reaped children)."""
    total = 0.0
    for ns in cluster.hosts.clients:
        for pid in cluster.hosts.pids(ns):
            try:
                t = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


def _cluster(pg_url: str, egresses: int, folder: Path) -> Cluster:
    hosts = netns.Hosts(clients=egresses).create()
    try:
        cluster = start_cluster(pg_url, str(socket_dir(pg_url)), folder, hosts, SEED)
        os.environ.update(cluster.env)
        start_workers(cluster)
        repo = cluster.repo()
        for account_id, secret in sorted(cluster.secrets.items()):
            repo.add(account_id, secret)
        cluster.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])
        return cluster
    except BaseException:
        hosts.destroy()
        raise


def throughput(cluster: Cluster, egresses: int) -> dict[str, Any]:
    """The accounts' first full syncs (account sensor): rate against one IP's floor."""
    _wait(lambda: _all_succeeded(cluster, SEED.accounts), 900, "first syncs")
    stats = cluster.admin("/_sandbox/stats")
    answered = sum(n for s, n in stats["by_status"].items() if s != "429")
    span = stats["last_ts"] - stats["first_ts"]
    rate = answered / span
    floor = PER_IP / SEED.window_s
    return {
        "egresses": egresses,
        "requests": answered,
        "http_429": stats["by_status"].get("429", 0),
        "by_address": stats["by_client"],
        "seconds": round(span, 1),
        "requests_per_s": round(rate, 2),
        "ratio_to_one_ip_floor": round(rate / floor, 3),
        "target": round(0.9 * egresses, 2),
        "met": rate / floor >= 0.9 * egresses,
    }


def cpu_per_run(cluster: Cluster, rounds: int) -> dict[str, Any]:
    """Quiet incremental account-runs: warm Celery workers against a process per run."""
    accounts = sorted(cluster.secrets)
    routes = egress_tags(cluster.warehouse, cluster.repo().list_accounts())
    before = _worker_cpu(cluster)
    run_ids: list[str] = []
    for _ in range(rounds):
        queued = queue_sync(cluster.instance, accounts, "incremental", tags_of=routes)
        run_ids += list(queued.values())
        _wait(functools.partial(_done, cluster, list(queued.values())), 900, "incremental runs")
    warm = (_worker_cpu(cluster) - before) / len(run_ids)
    # The same runs, each in a fresh `dagster api execute_run` in a worker namespace.
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import serialize_value

    created = queue_sync(cluster.instance, accounts, "incremental", tags_of=routes, submit=False)
    per_process = []
    for run_id in created.values():
        run = cluster.instance.get_run_by_id(run_id)
        assert run is not None and run.job_code_origin is not None
        args = ExecuteRunArgs(
            job_origin=run.job_code_origin, run_id=run_id,
            instance_ref=cluster.instance.get_ref(), set_exit_code_on_failure=True,
        )  # fmt: skip
        argv = [sys.executable, "-m", "dagster", "api", "execute_run", serialize_value(args)]
        env = {**cluster.env, "HOSTAWAY_EGRESS_ID": "w1"}
        child = subprocess.Popen(
            cluster.hosts.argv(cluster.hosts.clients[0], argv), env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        per_process.append(usage.ru_utime + usage.ru_stime)
    statuses = [cluster.instance.get_run_by_id(r).status.value for r in created.values()]  # type: ignore[union-attr]
    return {
        "runs_warm": len(run_ids),
        "cpu_s_per_run_warm_worker": round(warm, 2),
        "cpu_s_per_run_process_per_run": round(sum(per_process) / len(per_process), 2),
        "process_per_run_statuses": statuses,
        "target_warm": 1.5,
        "met": warm <= 1.5,
    }


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Egress benchmark ({result['date']}, commit {result['commit']}, load "
        f"{result['load_start']} -> {result['load_end']})",
        "",
        "| egresses | requests | 429s | seconds | requests/s | x one IP's floor | target | met |",
        "|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for t in result["throughput"]:
        lines.append(
            f"| {t['egresses']} | {t['requests']} | {t['http_429']} | {t['seconds']} | "
            f"{t['requests_per_s']} | {t['ratio_to_one_ip_floor']} | >= {t['target']} | "
            f"{'yes' if t['met'] else 'no'} |"
        )
    cpu = result.get("cpu")
    if cpu:
        lines += [
            "",
            f"CPU per quiet incremental account-run ({cpu['runs_warm']} runs): "
            f"{cpu['cpu_s_per_run_warm_worker']} CPU-s in a warm Celery worker, "
            f"{cpu['cpu_s_per_run_process_per_run']} CPU-s in a process per run "
            f"(target <= {cpu['target_warm']} warm: {'met' if cpu['met'] else 'missed'})",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--db-url", default=os.environ.get("HOSTAWAY_BENCH_DATABASE_URL", DEFAULT_DB)
    )
    parser.add_argument("--egresses", default="1,2,3")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    reason = netns.unavailable()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    ensure_database(args.db_url)  # on a fresh machine the benchmark's database does not exist yet
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit,
        "host": platform.node(), "load_start": round(os.getloadavg()[0], 2), "throughput": [],
    }  # fmt: skip
    counts = [int(n) for n in args.egresses.split(",")]
    saved = dict(os.environ)
    for n in counts:
        with tempfile.TemporaryDirectory(prefix="bench-egress-") as folder:
            cluster = _cluster(args.db_url, n, Path(folder))
            try:
                result["throughput"].append(throughput(cluster, n))
                print(json.dumps(result["throughput"][-1]), flush=True)
                if n == counts[-1]:
                    result["cpu"] = cpu_per_run(cluster, args.rounds)
                    print(json.dumps(result["cpu"]), flush=True)
            finally:
                stop_cluster(cluster)
                cluster.hosts.destroy()
                os.environ.clear()
                os.environ.update(saved)
    result["load_end"] = round(os.getloadavg()[0], 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "egress.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "egress.md").write_text(_markdown(result))
    print(_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
