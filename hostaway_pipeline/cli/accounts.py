"""`hostaway-pipeline accounts|keys|db`: register and manage accounts, rotate the secret key,
migrate the warehouse."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from hostaway_pipeline.cli.context import (
    account_id,
    account_repo,
    open_warehouse,
    print_table,
    read_secret,
)
from hostaway_pipeline.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

COMMANDS = ("accounts", "keys", "db")


def add_parser(sub: Any) -> None:
    """Register `accounts`, `keys` and `db` on the CLI's subparsers."""
    accounts = sub.add_parser("accounts", help="register and manage Hostaway accounts")
    actions = accounts.add_subparsers(dest="action", required=True)
    for name in ("add", "set-secret"):
        p = actions.add_parser(name, help=f"{name} an account's client secret (from env or stdin)")
        p.add_argument("account_id", type=account_id)
        p.add_argument(
            "--client-secret-env", metavar="VAR", help="read the secret from this env var"
        )
    actions.add_parser("list", help="list accounts (never their secrets)")
    for name in ("enable", "disable", "resync"):
        actions.add_parser(name).add_argument("account_id", type=account_id)
    entities = actions.add_parser("entities", help="choose the entities an account syncs")
    entities.add_argument("account_id", type=account_id)
    chosen = entities.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--only", metavar="A,B,C", help="these tables only (and what they need)")
    chosen.add_argument("--all", action="store_true", help="back to HOSTAWAY_ENTITIES (or all)")
    egress = actions.add_parser("egress", help="pin an account's runs to an egress (or unpin)")
    egress.add_argument("account_id", type=account_id)
    egress.add_argument("egress", nargs="?", help="the egress id; omit with --unpin")
    egress.add_argument("--unpin", action="store_true", help="back to placement by cost")
    remove = actions.add_parser("remove", help="unregister an account")
    remove.add_argument("account_id", type=account_id)
    remove.add_argument("--purge", action="store_true", help="also delete its synced data")

    keys = sub.add_parser("keys", help="secret key maintenance")
    keys.add_argument(
        "action",
        choices=["rotate"],
        help="rotate: re-seal every stored secret and token under HOSTAWAY_SECRET_KEY "
        "(the old key given in HOSTAWAY_SECRET_KEY_PREVIOUS)",
    )

    db = sub.add_parser("db", help="warehouse maintenance")
    db.add_argument("action", choices=["upgrade"])


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "keys":
        return cmd_keys(args, settings)
    if args.command == "db":
        account_repo(settings)
        print("warehouse schema is up to date")
        return 0
    return cmd_accounts(args, settings)


def _polling(settings: Settings, engine: sa.Engine) -> dict[int, str]:
    """How the incremental schedule polls each registered account: relaxed while its webhooks
    are healthy (defs/webhooks/cadence.py), normal (quiet: they missed changes polling found)."""
    from datetime import UTC, datetime

    from hostaway_pipeline.webhooks.store.health import webhook_health

    now, out = datetime.now(UTC), dict[int, str]()
    for aid, health in webhook_health(engine).items():
        if health.healthy(now):
            out[aid] = (
                f"relaxed({settings.webhook_incremental_minutes}m,"
                f"conversations={settings.webhook_conversation_minutes}m)"
            )
        elif health.missed:
            out[aid] = "normal(webhooks_quiet)"
    return out


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from hostaway_pipeline.accounts.rotation import rotate_keys

    report = rotate_keys(*open_warehouse(settings))  # it checks that the keys open this warehouse
    print(
        f"re-sealed {report.secrets} account secret(s) and {report.tokens} token(s) under "
        "HOSTAWAY_SECRET_KEY"
        + (
            f"; dropped {report.tokens_dropped} unreadable cached token(s)"
            if report.tokens_dropped
            else ""
        )
        + "; HOSTAWAY_SECRET_KEY_PREVIOUS can be removed once every process uses the new key"
    )
    return 0


def cmd_accounts(args: argparse.Namespace, settings: Settings) -> int:
    action = args.action
    if action in ("add", "set-secret"):
        secret = read_secret(args)
        repo = account_repo(settings)
        if action == "add":
            repo.add(args.account_id, secret)
            print(f"account {args.account_id} registered; the sensor starts its first full sync")
        else:
            repo.set_secret(args.account_id, secret)
            print(f"account {args.account_id}: secret replaced; a full re-sync will follow")
        return 0
    repo = account_repo(settings)
    if action == "list":
        from hostaway_pipeline.cli.sync import oldest_unverified
        from hostaway_pipeline.warehouse.availability import unavailable
        from hostaway_pipeline.webhooks.store import registrations as hooks

        # Fields are only ever appended (scripts parse the prefix): webhook=..., last_event=...,
        # entities=..., unavailable=..., polling=..., oldest_unverified=...
        registered = hooks.registrations(repo.engine)
        last_event = hooks.last_event_at(repo.engine)
        refused = unavailable(repo.engine)
        polling = _polling(settings, repo.engine)
        firsts: list[str] = []
        rows: list[list[str]] = []
        for info in repo.list_accounts():
            error = ""
            if info.last_error:
                error = f"{info.last_error_at:%Y-%m-%d %H:%M} {info.last_error}"[:100]
            if info.credentials_rejected:
                error = "CREDENTIALS REJECTED; " + error
            resync = "yes" if info.resync_requested_at else ""
            known = registered.get(info.account_id)
            seen = last_event.get(info.account_id)
            webhook = f"webhook={known.state if known else 'none'} last_event=" + (
                f"{seen:%Y-%m-%dT%H:%M:%SZ}" if seen else "never"
            )
            chosen = info.entity_override or settings.entities
            entities = f"entities={','.join(sorted(chosen)) if chosen else 'all'} unavailable=" + (
                ",".join(sorted(refused.get(info.account_id, {}))) or "none"
            )
            fields = [
                webhook,
                entities,
                f"polling={polling.get(info.account_id, 'normal')}",
                f"oldest_unverified={oldest_unverified(repo.engine, settings, info)}",
            ]
            rows.append([error, "  ".join(fields)])
            firsts.append(f"{info.account_id:>10}  {info.active!s:<6}  {resync:<6}")
        # The key=value fields keep two spaces between them (scripts split on them); the error
        # column is padded so that the header's columns line up with every row's.
        print_table(
            f"{'account':>10}  {'active':<6}  {'resync':<6}",
            ["last error", "webhook=... entities=... polling=... oldest_unverified=..."],
            firsts,
            rows,
        )
        return 0
    if action == "entities":
        names = None if args.all else [n.strip() for n in args.only.split(",") if n.strip()]
        chosen = repo.set_entities(args.account_id, names)
        print(
            f"account {args.account_id} syncs "
            + (
                ", ".join(sorted(chosen))
                if chosen
                else "what HOSTAWAY_ENTITIES says (all if unset)"
            )
            + " (with what they need: a child its parent, messages their conversations)"
        )
        return 0
    if action == "egress":
        from hostaway_pipeline.cli import worker as worker_cli

        return worker_cli.pin(args, repo)
    handlers = {
        "enable": (repo.enable, "enabled"),
        "disable": (repo.disable, "disabled"),
        "resync": (repo.request_resync, "re-sync requested"),
    }
    if action == "remove":
        repo.remove(args.account_id, purge_data=args.purge)
        print(f"account {args.account_id} removed" + (" with its data" if args.purge else ""))
        return 0
    handler, verb = handlers[action]
    handler(args.account_id)
    print(f"account {args.account_id} {verb}")
    return 0
