"""`hostaway-pipeline sync`: accounts (and the selected global lists) now, through Dagster; and
what a reconcile costs and how stale the children of unchanged parents are (`accounts list`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from hostaway_pipeline.cli.context import CliError, account_id, account_repo
from hostaway_pipeline.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from hostaway_pipeline.accounts.repo import AccountInfo
    from hostaway_pipeline.warehouse.verifications import Coverage


COMMANDS = ("sync",)


def add_parser(sub: Any) -> None:
    sync = sub.add_parser("sync", help="sync accounts now, through Dagster (shows in the UI)")
    target = sync.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--account",
        type=account_id,
        nargs="+",
        action="extend",
        metavar="ID",
        help="one or more account ids; the flag may be repeated (--account A --account B)",
    )
    target.add_argument("--all", action="store_true", help="every active account")
    sync.add_argument(
        "--mode",
        choices=["full", "incremental", "reconcile"],
        default="incremental",
        help="reconcile: a full sync that re-reads every child (its request cost printed first)",
    )
    sync.add_argument("--lookback-minutes", type=int, default=60)


def _coverage(engine: sa.Engine, settings: Settings, info: AccountInfo) -> list[Coverage]:
    """The account's child entities (those it syncs): parents and their oldest verification."""
    from hostaway_pipeline import catalog as streams
    from hostaway_pipeline.accounts.selection import selected_entities
    from hostaway_pipeline.warehouse.verifications import coverage

    chosen = selected_entities(settings, info)
    return coverage(engine, info.account_id, [s for s in streams.CATALOG if s.name in chosen])


def oldest_unverified(engine: sa.Engine, settings: Settings, info: AccountInfo) -> str:
    """`entity:age` of the child entity whose stalest parent was read longest ago, or none."""
    from datetime import UTC, datetime

    dated = [c for c in _coverage(engine, settings, info) if c.oldest is not None]
    if not dated:
        return "none"
    stalest = min(dated, key=lambda c: c.oldest or datetime.max.replace(tzinfo=UTC))
    age = datetime.now(UTC) - (stalest.oldest or datetime.now(UTC))
    return f"{stalest.entity}:{age.total_seconds() / 86400:.1f}d"


def _reconcile_cost(engine: sa.Engine, settings: Settings, info: AccountInfo) -> str:
    """What `sync --mode reconcile` costs the account beyond its lists: one request per parent."""
    found = [c for c in _coverage(engine, settings, info) if c.parents]
    total = sum(c.parents for c in found)
    parts = ", ".join(f"{c.entity} {c.parents:,}" for c in found) or "no stored parents"
    return f"account {info.account_id}: about {total:,} requests to re-read every child ({parts})"


def _global_lists(settings: Settings, mode: str) -> list[str]:
    """The global lists a `sync --mode full` syncs too (once, not per account): those that
    HOSTAWAY_ENTITIES selects (all when unset). Incremental runs leave them to their daily
    schedule (defs/entities/reference.py)."""
    from hostaway_pipeline import catalog as streams
    from hostaway_pipeline.accounts.selection import entity_selection

    chosen = entity_selection(settings.entities, None)
    return [
        s.name for s in streams.STREAMS
        if s.scope is streams.Scope.GLOBAL and s.name in chosen and mode in ("full", "reconcile")
    ]  # fmt: skip


def run(args: argparse.Namespace, settings: Settings) -> int:
    from hostaway_pipeline.definitions import build_definitions
    from hostaway_pipeline.runs.queue import daemon_serves, submit_sync
    from hostaway_pipeline.runs.runner import format_summary, instance_for, run_reference, run_sync

    repo = account_repo(settings)
    if args.all:
        account_ids = [a.account_id for a in repo.list_accounts() if a.active]
        if not account_ids:
            raise CliError("no active accounts; add one with `hostaway-pipeline accounts add ID`")
    else:
        account_ids = list(dict.fromkeys(args.account))  # --account A B and --account A --account B
        for account_id in account_ids:
            repo.get(account_id)  # fails fast, naming how to register the account
    if args.mode == "reconcile":  # its cost first: it may take hours at the documented limits
        print("reconcile: a full sync that re-reads every child of every parent:")
        for account_id in account_ids:
            print("  " + _reconcile_cost(repo.engine, settings, repo.get(account_id)), flush=True)
    instance = instance_for(settings)
    home = os.environ.get("DAGSTER_HOME")
    lists = _global_lists(settings, args.mode)
    also = f", and one of the global lists ({', '.join(lists)})" if lists else ""
    if daemon_serves(instance):
        print(
            f"a dagster-daemon serves the instance at {home}: queueing {len(account_ids)} run(s) "
            f"(one per account; each waits for any running sync of its account){also}",
            file=sys.stderr,
        )
        from hostaway_pipeline.egress.routing import egress_tags

        # Routed like the schedules' runs when egress workers report in (else no tag).
        routes = egress_tags(repo.engine, repo.list_accounts())
        outcomes = submit_sync(
            instance, account_ids, args.mode, args.lookback_minutes,
            global_lists=bool(lists), tags_of=routes,
        )  # fmt: skip
    else:
        print(
            f"no dagster-daemon serves the instance at {home}: running in this process, outside "
            "the run queue (start `dagster-daemon run` to queue CLI syncs with the scheduled "
            f"ones){also}",
            file=sys.stderr,
        )
        defs = build_definitions(settings)
        outcomes = [run_reference(defs, instance)] if lists else []
        outcomes += run_sync(defs, instance, account_ids, args.mode, args.lookback_minutes)
    print(format_summary(outcomes))
    return 0 if all(o.success for o in outcomes) else 1
