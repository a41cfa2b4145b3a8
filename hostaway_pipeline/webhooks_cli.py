"""`hostaway-pipeline webhooks serve|process|register|list|remove`."""

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
    register = actions.add_parser(
        "register",
        help="register the receiver with Hostaway for an account "
        "(Basic auth from HOSTAWAY_WEBHOOK_LOGIN/_PASSWORD)",
    )
    register.add_argument("account_id", type=account_id)
    register.add_argument("--url", required=True, help="the receiver's public https URL")
    actions.add_parser("list", help="list an account's unified webhooks").add_argument(
        "account_id", type=account_id
    )
    remove = actions.add_parser("remove", help="delete an account's unified webhook")
    remove.add_argument("account_id", type=account_id)
    remove.add_argument("webhook_id", type=account_id)


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
    from hostaway_pipeline.webhooks.registration import run_registration

    return run_registration(args, settings)
