"""`python -m benchmarks.run [--smoke] [--scenario N ...] [--out DIR] [--db-url URL]`.

Runs the scenarios against the sandbox (in its own process) and the benchmark database, records
results.json and results.md in benchmarks/results/ (smoke runs: a temporary folder unless --out)
and prints the summary table. A missed target is a result, not a failure; the exit status is 1
only when a scenario could not run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import report
from benchmarks.context import Context
from benchmarks.results_model import ScenarioResult
from benchmarks.warehouse import default_db_url, ensure_database, new_secret_key

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCENARIOS = {
    1: "s1_full_sync",
    2: "s2_raised_limits",
    3: "s3_incremental",
    4: "s4_memory",
    5: "s5_writes",
    6: "s6_tokens",
    7: "s7_orchestration",
    8: "s8_webhooks",
}


def _scenario_ids(text: str) -> list[int]:
    ids = [int(part) for part in text.split(",") if part.strip()]
    unknown = [i for i in ids if i not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {unknown}; choose from 1-8")
    return ids


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="scaled down, 1 s rate window (CI)")
    p.add_argument(
        "--scenario",
        type=_scenario_ids,
        action="append",
        help="scenario number(s) to run, e.g. --scenario 2 or --scenario 1,3 (default: all)",
    )
    p.add_argument("--out", type=Path, help="results folder (default: benchmarks/results/)")
    p.add_argument(
        "--db-url",
        default=default_db_url(),
        help="benchmark PostgreSQL database, created if missing; its `hostaway` schema is "
        "dropped and rebuilt per scenario (env HOSTAWAY_BENCH_DATABASE_URL)",
    )
    return p


def _meta(smoke: bool) -> dict[str, object]:
    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], capture_output=True, text=True, check=True, timeout=10,
                cwd=Path(__file__).resolve().parents[1],
            )  # fmt: skip
            return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    dirty = git("status", "--porcelain")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else ""),
        "mode": "smoke" if smoke else "full",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def run_scenario(sid: int, ctx: Context, log: Callable[[str], None]) -> ScenarioResult:
    """Run one scenario; an exception becomes a result with `error` set."""
    module = importlib.import_module(f"benchmarks.scenarios.{SCENARIOS[sid]}")
    log(f"scenario {sid} ({SCENARIOS[sid]}) ...")
    started, load_before = time.monotonic(), os.getloadavg()[0]
    try:
        result: ScenarioResult = module.run(ctx)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        result = ScenarioResult(id=sid, title=SCENARIOS[sid], error=f"{type(exc).__name__}: {exc}")
    result.duration_s = round(time.monotonic() - started, 1)
    if ctx.smoke:  # scaled down on a 1 s window, the figures say nothing about the targets
        for m in result.measures:
            m.met = None
    # Other work on the host slows every scenario down; the load average says how much there was.
    result.settings["host load (1-min avg, start/end)"] = (
        f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    )
    log(f"scenario {sid} done in {result.duration_s:.0f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ids = sorted({i for group in args.scenario or [list(SCENARIOS)] for i in group})
    out: Path = args.out or (
        Path(tempfile.mkdtemp(prefix="hostaway-bench-smoke-")) if args.smoke else RESULTS_DIR
    )
    ensure_database(args.db_url)
    ctx = Context(db_url=args.db_url, key=new_secret_key(), smoke=args.smoke)

    def log(msg: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    meta = _meta(args.smoke)
    results = []
    for sid in ids:
        results.append(run_scenario(sid, ctx, log))
        report.save(out, results[-1:], meta)  # as we go: an interrupted run keeps what it did
    print(report.summary_table(results))
    print(f"\nresults: {out / 'results.json'}, {out / 'results.md'}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
