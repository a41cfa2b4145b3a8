"""The `hostaway-pipeline` command: accounts, keys, database, sync, demo, sandbox and UI."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from hostaway_pipeline.cli.context import CliError, user_errors
from hostaway_pipeline.settings import Settings, SettingsError

# The command registry: one module per command group under hostaway_pipeline/cli/, each with
# COMMANDS (the top-level commands it owns), add_parser(subparsers) and run(args, settings).
# A group with ISOLATED = True runs without the shell's settings (run(args, None)): the demo.
# A new command is its module plus one line here.
GROUPS = ("accounts", "sync", "guests", "webhooks", "budget", "worker", "demo")


def _group(name: str) -> ModuleType:
    return importlib.import_module(f"hostaway_pipeline.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hostaway-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in GROUPS:
        _group(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:  # its own flags, parsed by the sandbox
        from hostaway_pipeline.cli import demo

        return demo.sandbox(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        group = next(_group(g) for g in GROUPS if args.command in _group(g).COMMANDS)
        if getattr(group, "ISOLATED", False):
            return int(group.run(args, None))
        return int(group.run(args, Settings.from_env()))
    except (CliError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # Typed domain errors carry a message that says what to do; show it without a traceback.
        if isinstance(exc, user_errors()):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
