"""`hostaway-pipeline demo` and `ui`: the whole product on embedded defaults, against the sandbox.

No Hostaway credentials and no database server: the sandbox plays Hostaway, SQLite holds the
warehouse and the Dagster instance under `.demo/`. The sandbox uses the raised limits some accounts
report since 2026-08 (200 requests per 10 s) so the demo takes seconds; the benchmarks use the
documented 15 per 10 s.

Both run isolated from the shell: every HOSTAWAY_* and DAGSTER_* variable is dropped and replaced
by the demo's own home, warehouse, key and Dagster instance, so a shell set up for production
(HOSTAWAY_DATABASE_URL, HOSTAWAY_SECRET_KEY, DAGSTER_HOME ...) can never be read, printed or
written by them, and the UI's sensors only ever see the sandbox's accounts.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hostaway_pipeline.runs.embedded import write_embedded_config
from hostaway_pipeline.warehouse.files import ensure_private_dir
from hostaway_sandbox import SandboxServer, SeedSpec

# `demo`, `ui` and `sandbox` run on their own settings, never the shell's (cli/app.py).
COMMANDS = ("demo", "ui", "sandbox")
ISOLATED = True
DEMO_SEED = SeedSpec(accounts=3, listings=8, reservations=60, messages_per_conversation=4, seed=7)
DEMO_LIMIT = 200
ISOLATED_PREFIXES = ("HOSTAWAY_", "DAGSTER_")
# How long `dagster dev` and its children get to shut down cleanly before they are killed.
STOP_GRACE_S = 15.0


def isolated_environ(home: Path, api_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """`base` without any HOSTAWAY_*/DAGSTER_* variable, plus the demo's own settings."""
    env = {k: v for k, v in base.items() if not k.upper().startswith(ISOLATED_PREFIXES)}
    home = home.resolve()
    env.update(
        {
            "HOSTAWAY_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "HOSTAWAY_API_URL": api_url,
            "HOSTAWAY_RATE_LIMIT_PER_IP": str(DEMO_LIMIT),
            "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT": str(DEMO_LIMIT),
        }
    )
    return env


def isolation_notice(home: Path, command: str) -> str:
    """The one line saying the demo ignores the shell's production settings."""
    return (
        f"{command}: isolated in {home} (own SQLite warehouse, key and Dagster instance); "
        "HOSTAWAY_* and DAGSTER_* variables from your shell are ignored"
    )


def _isolate(home: Path, api_url: str) -> None:
    """Make this process's environment the demo's (see isolated_environ)."""
    env = isolated_environ(home, api_url, os.environ)
    for name in [n for n in os.environ if n not in env]:
        del os.environ[name]
    os.environ.update(env)


def _sandbox(port: int) -> SandboxServer:
    return SandboxServer(
        seed=DEMO_SEED,
        rate_limit_per_ip=DEMO_LIMIT,
        rate_limit_per_account=DEMO_LIMIT,
        latency_ms=(20, 60),
        port=port,
    )


def _mutate(server: SandboxServer, account_ids: list[int]) -> str:
    """A few realistic changes between the full and the incremental sync."""
    state, first = server.state, account_ids[0]
    reservations = state.reservations(first)
    state.update_reservation(first, reservations[0]["id"], numberOfGuests=3)
    state.cancel_reservation(first, reservations[1]["id"])
    conversation = state.conversations(first)[0]
    state.add_message(first, conversation["id"], body="Is early check-in possible?", incoming=True)
    state.update_listing(first, state.listings(first)[0]["id"], price=199)
    state.add_reservation(account_ids[1])
    return (
        "updated 1 and cancelled 1 reservation, added 1 message, repriced 1 listing (account "
        f"{first}); added 1 reservation (account {account_ids[1]})"
    )


def run_demo(port: int, home: Path) -> int:
    from hostaway_pipeline.cli.context import account_repo
    from hostaway_pipeline.definitions import build_definitions
    from hostaway_pipeline.runs.runner import (
        format_entities,
        format_summary,
        instance_for,
        run_reference,
        run_sync,
    )
    from hostaway_pipeline.settings import Settings

    with _sandbox(port) as server:
        _isolate(home, server.url)
        settings = Settings.from_env()
        print(isolation_notice(settings.home, "demo"))
        print(f"sandbox Hostaway at {server.url}")
        repo = account_repo(settings)
        account_ids = server.state.account_ids()
        known = {a.account_id for a in repo.list_accounts()}
        for account_id in account_ids:
            if account_id in known:
                repo.set_secret(account_id, server.state.secret(account_id))
            else:
                repo.add(account_id, server.state.secret(account_id))
        print(f"registered accounts {', '.join(map(str, account_ids))}\n")
        defs, instance = build_definitions(settings), instance_for(settings)
        # No daemon serves the demo's embedded instance: its runs execute here, outside the queue.
        print("runs execute in this process (embedded demo instance, no dagster-daemon)\n")
        reference = run_reference(defs, instance)
        print(
            f"== global reference lists (once, not per account) ==\n{format_summary([reference])}"
        )
        ok, by_mode = reference.success, {}
        for mode in ("full", "incremental"):
            if mode == "incremental":
                print(f"\nchanges in the sandbox: {_mutate(server, account_ids)}\n")
            started = time.monotonic()
            outcomes = by_mode[mode] = run_sync(defs, instance, account_ids, mode)
            print(f"== {mode} sync: {time.monotonic() - started:.1f} s ==")
            print(format_summary(outcomes, per_asset=False))
            ok = ok and all(o.success for o in outcomes)
        print(f"\n== per entity, accounts {', '.join(map(str, account_ids))} ==")
        print(format_entities(by_mode))
    print(
        "\nOpen the Dagster UI on this data (runs, asset metadata plotted over time, checks):\n"
        "  ./dev ui      then browse http://127.0.0.1:3000/assets/hostaway"
    )
    return 0 if ok else 1


UI_WORKSPACE = """# Written by `hostaway-pipeline ui`: the demo's own code location, loaded from this folder.
load_from:
  - python_module:
      module_name: hostaway_pipeline.definitions
      location_name: hostaway_pipeline
      working_directory: {workdir}
"""


SUPERSEDED = "ignore:Function `dev_command` is superseded"


def ui_workdir(home: Path) -> Path:
    """Where `dagster dev` runs for `ui`: a private folder of the demo's home holding only its own
    workspace.yaml. Dagster reads `.env`, `dagster.yaml` and `workspace.yaml` from its working
    directory (and the code server from the location's); none of the checkout's can reach it."""
    workdir = home.resolve() / "ui"
    ensure_private_dir(workdir)
    (workdir / "workspace.yaml").write_text(UI_WORKSPACE.format(workdir=workdir))
    return workdir


def ui_command(port: int, api_url: str, home: Path) -> tuple[list[str], dict[str, str], Path]:
    """The `dagster dev` command of `ui`, its isolated environment (loopback only) and the
    private working directory it must run in."""
    env = isolated_environ(home, api_url, os.environ)
    workdir = ui_workdir(home)
    # `dagster dev` says it is superseded by `dg dev`, which would read the checkout's files.
    command = [sys.executable, "-W", SUPERSEDED, "-m", "dagster", "dev",
               "-w", str(workdir / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    return command, env, workdir


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group `proc` leads (dagster dev, webserver, daemon, code servers, run
    workers), then SIGKILL whatever is left after `grace_s`."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader; the group lives on while any member does
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def run_ui(port: int, sandbox_port: int, home: Path) -> int:
    """The sandbox (same seed, same port) plus `dagster dev` on the demo's own instance.

    `dagster dev` runs in its own process group, so a signal to this command (SIGINT from the
    terminal, SIGTERM from a supervisor) stops everything it started, however its children treat
    the signal: the group gets SIGTERM, then SIGKILL after a grace period.
    """
    with _sandbox(sandbox_port) as server:
        command, env, workdir = ui_command(port, server.url, home)
        write_embedded_config(ensure_private_dir(Path(env["DAGSTER_HOME"])))
        print(isolation_notice(Path(env["HOSTAWAY_HOME"]), "ui"))
        print(f"sandbox at {server.url}; Dagster UI at http://127.0.0.1:{port}", flush=True)
        stopping: list[int] = []

        def stop(signum: int, _frame: object) -> None:
            stopping.append(signum)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        proc = subprocess.Popen(command, env=env, cwd=workdir, start_new_session=True)
        try:
            while proc.poll() is None and not stopping:
                time.sleep(0.2)
        finally:
            stop_group(proc)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0 if stopping else (proc.returncode or 0)


def run(args: argparse.Namespace, _settings: None) -> int:
    home = Path(args.home)
    if args.command == "ui":
        return run_ui(args.port, args.sandbox_port, home)
    return run_demo(args.port, home)


def add_parser(sub: Any) -> None:
    """Register `demo`, `sandbox` and `ui` on the CLI's subparsers."""
    isolated = "; ignores every HOSTAWAY_*/DAGSTER_* variable of the shell"
    demo = sub.add_parser(
        "demo", help="sandbox + full and incremental syncs on embedded defaults" + isolated
    )
    demo.add_argument("--port", type=int, default=18765)
    demo.add_argument("--home", default=".demo", help="the demo's own folder (default .demo)")
    sub.add_parser("sandbox", help="run the local Hostaway sandbox", add_help=False)
    ui = sub.add_parser(
        "ui", help="open the Dagster UI on the demo's data (with its sandbox)" + isolated
    )
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--sandbox-port", type=int, default=18765)
    ui.add_argument("--home", default=".demo", help="the demo's own folder (default .demo)")


def sandbox(argv: list[str]) -> int:
    """`hostaway-pipeline sandbox ...`: the sandbox's own command line."""
    from hostaway_sandbox.cli import main as sandbox_main

    return sandbox_main(argv)
