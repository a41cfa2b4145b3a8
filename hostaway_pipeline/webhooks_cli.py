"""`hostaway-pipeline webhooks serve|process` (registration commands: not yet, see docs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from hostaway_pipeline.settings import Settings


def add_parser(sub: Any, account_id: Callable[[str], int]) -> None:
    """Register the `webhooks` command on the CLI's subparsers."""
    hooks = sub.add_parser("webhooks", help="receive and apply Hostaway unified webhooks")
    actions = hooks.add_subparsers(dest="action", required=True)
    serve = actions.add_parser("serve", help="run the receiver (POST /webhooks/hostaway)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    process = actions.add_parser("process", help="apply pending events once")
    process.add_argument("--account", type=account_id, metavar="ID", help="only this account")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `webhooks` action."""
    if args.action == "serve":
        from hostaway_pipeline.webhooks.serve import serve

        serve(args.host, args.port, args.workers)
        return 0
    if args.action == "process":
        from hostaway_pipeline.webhooks.apply import process_all

        for line in process_all(settings, args.account):
            print(line)
        return 0
    raise ValueError(f"unknown webhooks action {args.action!r}")
