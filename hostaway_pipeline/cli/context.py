"""What every command group shares: the user error, account-id parsing, reading a secret, opening
the warehouse and the account repository, printing a table, and the typed errors a user can act
on (shown as one clear line by the CLI, never a traceback)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from hostaway_pipeline.accounts.ids import AccountIdError, parse_account_id
from hostaway_pipeline.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from hostaway_pipeline.accounts.repo import AccountRepo
    from hostaway_pipeline.accounts.secrets import SecretBox


class CliError(Exception):
    """A user error: printed without a traceback, exit status 2."""


def account_id(text: str) -> int:
    """An argparse type: a canonical account id (or a reservation id: the same rule)."""
    try:
        return parse_account_id(text)
    except AccountIdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_secret(args: argparse.Namespace) -> str:
    """The client secret from `--client-secret-env` or stdin (a prompt on a terminal)."""
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


def open_warehouse(settings: Settings) -> tuple[sa.Engine, SecretBox]:
    """The migrated warehouse engine and the secret box whose keys open it."""
    from hostaway_pipeline.accounts.secrets import load_secret_box
    from hostaway_pipeline.warehouse import db
    from hostaway_pipeline.warehouse.files import check_home

    check_home(settings)
    engine = db.create_engine(settings.database_url)
    db.upgrade_once(engine)
    return engine, load_secret_box(settings, engine=engine)


def account_repo(settings: Settings) -> AccountRepo:
    """The account repository on the migrated warehouse."""
    from hostaway_pipeline.accounts.repo import AccountRepo

    return AccountRepo(*open_warehouse(settings))


def print_table(first: str, headers: list[str], firsts: list[str], rows: list[list[str]]) -> None:
    """The fixed columns (`first` is their header), then each free column padded to its widest
    value, so the header lines up with every row."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(head: str, cells: list[str]) -> str:
        return "  ".join([head, *(c.ljust(w) for c, w in zip(cells, widths, strict=True))]).rstrip()

    print(line(first, headers))
    for head, cells in zip(firsts, rows, strict=True):
        print(line(head, cells))


def user_errors() -> tuple[type[Exception], ...]:
    """The typed errors whose message says what to do (imported when an error happened)."""
    from hostaway_pipeline.accounts.repo import AccountError
    from hostaway_pipeline.accounts.secrets import SecretKeyError
    from hostaway_pipeline.client.errors import HostawayError
    from hostaway_pipeline.egress.check import EgressError
    from hostaway_pipeline.settings import SettingsError
    from hostaway_pipeline.warehouse.errors import WarehouseError
    from hostaway_pipeline.webhooks.registration import RegistrationError

    return (
        HostawayError,
        AccountError,
        EgressError,
        RegistrationError,
        SecretKeyError,
        SettingsError,
        WarehouseError,
    )
