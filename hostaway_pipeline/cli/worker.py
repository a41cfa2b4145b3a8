"""`hostaway-pipeline worker --egress-id ID`: a Celery run worker for one egress (source IP).

Needs the instance of deploy/celery/dagster.yaml (DAGSTER_HOME): the broker and result backend
come from its run launcher, so workers and daemon cannot disagree. Before starting it checks
the egress through HOSTAWAY_EGRESS_ECHO_URL when set (egress/check.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
from typing import Any

from hostaway_pipeline.cli.context import CliError, open_warehouse
from hostaway_pipeline.settings import Settings, egress_id

COMMANDS = ("worker",)


def _egress(text: str) -> str:
    from hostaway_pipeline.settings import SettingsError

    try:
        return egress_id(text, "--egress-id")
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any) -> None:
    worker = sub.add_parser(
        "worker",
        help="run a Celery worker for one egress (deploy/celery/dagster.yaml; docs/PRODUCTION.md)",
    )
    worker.add_argument("--egress-id", type=_egress, required=True, metavar="ID")
    worker.add_argument("-c", "--concurrency", type=int, default=2, help="runs at once (2)")
    worker.add_argument(
        "--max-tasks-per-child", type=int, default=50, help="recycle a worker process after N runs"
    )
    worker.add_argument("--heartbeat-seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    worker.add_argument("--loglevel", default="INFO")


def _launcher_settings() -> dict[str, Any]:
    """Broker, backend and Celery settings of the instance's run launcher."""
    from hostaway_pipeline.runs.celery_launcher import NotCelery, launcher_settings

    try:
        return launcher_settings()
    except NotCelery as err:
        raise CliError(
            f"the instance at DAGSTER_HOME={os.environ.get('DAGSTER_HOME')} launches runs with "
            f"{err}, not Celery: use deploy/celery/dagster.yaml there"
        ) from err


def run(args: argparse.Namespace, settings: Settings) -> int:
    from hostaway_pipeline.egress import store
    from hostaway_pipeline.egress.check import check_egress, observe_address
    from hostaway_pipeline.egress.worker import celery_argv, run_worker, write_config

    engine, _box = open_warehouse(settings)  # migrated, and the secret key opens it
    hostname = socket.gethostname()
    echo = settings.egress_echo_url

    def _observe() -> str:
        return observe_address(echo) if echo else store.UNCHECKED

    address = _observe()
    for warning in check_egress(engine, args.egress_id, address, hostname):
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"egress {args.egress_id}: "
        + (f"sending from {address}" if echo else "not checked (HOSTAWAY_EGRESS_ECHO_URL unset)"),
        file=sys.stderr,
    )
    folder = write_config(_launcher_settings())
    env = {**os.environ, "HOSTAWAY_EGRESS_ID": args.egress_id}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH")) if p)

    def _heartbeat() -> None:
        seen = _observe()
        for warning in check_egress(engine, args.egress_id, seen, hostname):
            print(f"warning: {warning}", file=sys.stderr)

    def _exit() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        store.forget(engine, args.egress_id, address)

    argv = celery_argv(args.egress_id, args.concurrency, args.max_tasks_per_child, args.loglevel)
    return run_worker(argv, env, _heartbeat, args.heartbeat_seconds, _exit)


def pin(args: argparse.Namespace, repo: Any) -> int:
    """`accounts egress ID EGRESS` / `--unpin`."""
    if args.unpin == bool(args.egress):
        raise CliError("give either an egress id or --unpin")
    chosen = None if args.unpin else egress_id(args.egress, "EGRESS")
    repo.set_egress(args.account_id, chosen)
    print(
        f"account {args.account_id}: runs "
        + (f"pinned to egress {chosen}" if chosen else "placed by projected cost")
    )
    return 0
