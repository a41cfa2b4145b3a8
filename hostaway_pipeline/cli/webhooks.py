"""`hostaway-pipeline webhooks serve|process|register|list|remove`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from hostaway_pipeline.cli.context import account_id, open_warehouse
from hostaway_pipeline.settings import Settings

COMMANDS = ("webhooks",)


def add_parser(sub: Any) -> None:
    """Register the `webhooks` command on the CLI's subparsers."""
    hooks = sub.add_parser("webhooks", help="receive, apply and register Hostaway unified webhooks")
    actions = hooks.add_subparsers(dest="action", required=True)
    serve = actions.add_parser("serve", help="run the receiver (POST /webhooks/hostaway)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    process = actions.add_parser("process", help="apply pending events once")
    process.add_argument("--account", type=account_id, metavar="ID", help="only this account")
    register = actions.add_parser(
        "register",
        help="register (or update) the account's unified webhook at URL with a new credential "
        "of its own, derived from HOSTAWAY_WEBHOOK_SECRET (re-keys: the old one stops working)",
    )
    register.add_argument("account_id", type=account_id, metavar="ID")
    register.add_argument("--url", required=True, help="the receiver's public https URL")
    listing = actions.add_parser("list", help="list the account's unified webhooks")
    listing.add_argument("account_id", type=account_id, metavar="ID")
    remove = actions.add_parser("remove", help="delete the account's webhook(s)")
    remove.add_argument("account_id", type=account_id, metavar="ID")
    which = remove.add_mutually_exclusive_group(required=True)
    which.add_argument("--url", help="every webhook at this URL")
    which.add_argument("--webhook-id", type=int, metavar="N", help="the webhook with this id")


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
    if args.action in ("register", "list", "remove"):
        for line in _registrations(args, settings):
            print(line, flush=True)
        return 0
    raise ValueError(f"unknown webhooks action {args.action!r}")


def _registrations(args: argparse.Namespace, settings: Settings) -> Iterator[str]:
    from hostaway_pipeline.webhooks import registration as reg
    from hostaway_pipeline.webhooks.clients import account_client
    from hostaway_pipeline.webhooks.config import WebhookConfig, check_url
    from hostaway_pipeline.webhooks.store import registrations as state

    aid = args.account_id
    # Checked before any request: the secret, and an https:// URL (http:// only on loopback).
    secret = WebhookConfig.from_env().require_secret() if args.action == "register" else None
    if args.action == "register":
        check_url(args.url)
    engine, box = open_warehouse(settings)
    try:
        with account_client(settings, engine, box, aid) as client:
            if args.action == "list":
                hooks = reg.list_hooks(client)
                if not hooks:
                    yield f"account {aid}: no unified webhooks"
                yield from (h.line(aid) for h in hooks)
            elif args.action == "register":
                assert secret is not None
                try:
                    hook, action = reg.register_account(
                        engine, client, args.url, secret, rekey=True
                    )
                except Exception as exc:
                    state.record_failed(engine, aid, args.url, str(exc))
                    raise
                yield hook.line(aid, f"{action}, re-keyed")
            else:
                removed = reg.remove(client, url=args.url, webhook_id=args.webhook_id)
                yield from (h.line(aid, "removed") for h in removed)
                known = state.registrations(engine).get(aid)
                if known and any(h.id == known.webhook_id or h.url == known.url for h in removed):
                    state.forget(engine, aid)
    finally:
        engine.dispose()
