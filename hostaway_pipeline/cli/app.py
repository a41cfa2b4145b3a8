"""The `hostaway-pipeline` command: accounts, keys, database, sync, demo, sandbox and UI."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hostaway_pipeline.accounts.ids import AccountIdError, parse_account_id
from hostaway_pipeline.settings import Settings, SettingsError

if TYPE_CHECKING:
    import sqlalchemy as sa


class CliError(Exception):
    """A user error: printed without a traceback, exit status 2."""


def _account_id(text: str) -> int:
    try:
        return parse_account_id(text)
    except AccountIdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _read_secret(args: argparse.Namespace) -> str:
    # Never from an argument: argv is visible to every user of the machine and lands in shell history.
    if args.client_secret_env:
        secret = os.environ.get(args.client_secret_env, "")
        if not secret:
            raise CliError(f"environment variable {args.client_secret_env} is unset or empty")
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"Hostaway API key (client secret) of account {args.account_id}: ")
    else:
        secret = sys.stdin.readline()
    secret = secret.strip()
    if not secret:
        raise CliError(
            f"account {args.account_id}: the client secret is empty; nothing was changed"
        )
    return secret


def _open(settings: Settings):  # type: ignore[no-untyped-def]
    """The migrated warehouse engine and the secret box whose keys open it."""
    from hostaway_pipeline.accounts.secrets import load_secret_box
    from hostaway_pipeline.warehouse import db
    from hostaway_pipeline.warehouse.files import check_home

    check_home(settings)
    engine = db.create_engine(settings.database_url)
    db.upgrade_once(engine)
    return engine, load_secret_box(settings, engine=engine)


def _print_table(first: str, headers: list[str], firsts: list[str], rows: list[list[str]]) -> None:
    """The fixed columns (`first` is their header), then each free column padded to its widest
    value, so the header lines up with every row."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(head: str, cells: list[str]) -> str:
        return "  ".join([head, *(c.ljust(w) for c, w in zip(cells, widths, strict=True))]).rstrip()

    print(line(first, headers))
    for head, cells in zip(firsts, rows, strict=True):
        print(line(head, cells))


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


def _repo(settings: Settings):  # type: ignore[no-untyped-def]
    from hostaway_pipeline.accounts.repo import AccountRepo

    return AccountRepo(*_open(settings))


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from hostaway_pipeline.accounts.rotation import rotate_keys

    report = rotate_keys(*_open(settings))  # _open checks that the keys open this warehouse
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
        secret = _read_secret(args)
        repo = _repo(settings)
        if action == "add":
            repo.add(args.account_id, secret)
            print(f"account {args.account_id} registered; the sensor starts its first full sync")
        else:
            repo.set_secret(args.account_id, secret)
            print(f"account {args.account_id}: secret replaced; a full re-sync will follow")
        return 0
    repo = _repo(settings)
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
        _print_table(
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hostaway-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    accounts = sub.add_parser("accounts", help="register and manage Hostaway accounts")
    actions = accounts.add_subparsers(dest="action", required=True)
    for name in ("add", "set-secret"):
        p = actions.add_parser(name, help=f"{name} an account's client secret (from env or stdin)")
        p.add_argument("account_id", type=_account_id)
        p.add_argument(
            "--client-secret-env", metavar="VAR", help="read the secret from this env var"
        )
    actions.add_parser("list", help="list accounts (never their secrets)")
    for name in ("enable", "disable", "resync"):
        actions.add_parser(name).add_argument("account_id", type=_account_id)
    entities = actions.add_parser("entities", help="choose the entities an account syncs")
    entities.add_argument("account_id", type=_account_id)
    chosen = entities.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--only", metavar="A,B,C", help="these tables only (and what they need)")
    chosen.add_argument("--all", action="store_true", help="back to HOSTAWAY_ENTITIES (or all)")
    egress = actions.add_parser("egress", help="pin an account's runs to an egress (or unpin)")
    egress.add_argument("account_id", type=_account_id)
    egress.add_argument("egress", nargs="?", help="the egress id; omit with --unpin")
    egress.add_argument("--unpin", action="store_true", help="back to placement by cost")
    remove = actions.add_parser("remove", help="unregister an account")
    remove.add_argument("account_id", type=_account_id)
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

    from hostaway_pipeline.cli import sync as sync_cli

    sync_cli.add_parser(sub, _account_id)
    from hostaway_pipeline.cli import guests as guests_cli

    guests_cli.add_parser(sub, _account_id)
    from hostaway_pipeline.cli import webhooks as webhooks_cli

    webhooks_cli.add_parser(sub, _account_id)
    from hostaway_pipeline.cli import budget as budget_cli

    budget_cli.add_parser(sub, _account_id)
    from hostaway_pipeline.cli import worker as worker_cli

    worker_cli.add_parser(sub)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        from hostaway_sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("demo", "ui"):
            from hostaway_pipeline.cli import demo

            return demo.main(args)
        settings = Settings.from_env()
        if args.command == "accounts":
            return cmd_accounts(args, settings)
        if args.command == "guests":
            from hostaway_pipeline.cli import guests as guests_cli

            return guests_cli.run(args, settings)
        if args.command == "webhooks":
            from hostaway_pipeline.cli import webhooks as webhooks_cli

            return webhooks_cli.run(args, settings)
        if args.command == "budget":
            from hostaway_pipeline.cli import budget as budget_cli

            return budget_cli.run(args, settings)
        if args.command == "worker":
            from hostaway_pipeline.cli import worker as worker_cli

            return worker_cli.run(args, settings)
        if args.command == "keys":
            return cmd_keys(args, settings)
        if args.command == "db":
            _repo(settings)
            print("warehouse schema is up to date")
            return 0
        from hostaway_pipeline.cli import sync as sync_cli

        return sync_cli.run(args, settings)
    except (CliError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # Typed domain errors carry a message that says what to do; show it without a traceback.
        from hostaway_pipeline.cli.context import USER_ERRORS

        if isinstance(exc, USER_ERRORS):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
