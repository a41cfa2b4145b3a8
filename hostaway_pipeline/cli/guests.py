"""`hostaway-pipeline guests erase|purge`: guest erasure and retention from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from hostaway_pipeline.cli.context import account_id
from hostaway_pipeline.settings import Settings

COMMANDS = ("guests",)


def add_parser(sub: Any) -> None:
    """Register the `guests` command on the CLI's subparsers."""
    guests = sub.add_parser("guests", help="erase a guest's personal data; apply retention")
    actions = guests.add_subparsers(dest="action", required=True)
    erase = actions.add_parser("erase", help="erase one guest's personal data, and keep it out")
    erase.add_argument("--account", type=account_id, required=True, metavar="ID")
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--reservation", type=account_id, metavar="RID")
    which.add_argument("--email", metavar="ADDRESS")
    purge = actions.add_parser(
        "purge", help="purge personal data of rows deleted > HOSTAWAY_RETENTION_DAYS days ago"
    )
    purge.add_argument("--days", type=account_id, help="override HOSTAWAY_RETENTION_DAYS")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `guests erase` or `guests purge`; prints one line (ids and counts, no personal data)."""
    from hostaway_pipeline.privacy.erasure import ErasureError, erase_guest
    from hostaway_pipeline.privacy.retention import RetentionError, purge_deleted, retention_days
    from hostaway_pipeline.warehouse import db

    engine = db.create_engine(settings.database_url)
    try:
        db.upgrade(engine)
        if args.action == "erase":
            try:
                report = erase_guest(engine, args.account, args.reservation, args.email)
            except ErasureError as exc:
                print(f"error: {exc}")
                return 2
            print(
                f"account {report.account_id}: erased {len(report.reservations)} reservation(s) "
                f"{list(report.reservations)}, {len(report.conversations)} conversation(s); "
                f"{report.rows_redacted} row(s) redacted now, and kept redacted by later syncs"
            )
            return 0
        try:
            days = args.days or retention_days()
        except RetentionError as exc:
            print(f"error: {exc}")
            return 2
        if days is None:
            print("retention is off: set HOSTAWAY_RETENTION_DAYS (or pass --days); nothing purged")
            return 0
        purged = purge_deleted(engine, days)
        detail = ", ".join(f"{name} {count}" for name, count in purged.items())
        print(f"purged personal data of rows deleted more than {days} days ago: {detail}")
        return 0
    finally:
        engine.dispose()
