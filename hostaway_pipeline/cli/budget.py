"""`hostaway-pipeline budget ACCOUNT_ID`: each entity's API requests per day, from recorded runs."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hostaway_pipeline.accounts.budget import FullRule, full_rule
from hostaway_pipeline.cli.context import CliError, account_repo
from hostaway_pipeline.cli.context import account_id as account_id_arg
from hostaway_pipeline.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa


def _days(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days (1 or more)")
    return int(text)


COMMANDS = ("budget",)


def add_parser(sub: Any) -> None:
    budget = sub.add_parser(
        "budget",
        help="requests per day of each entity of an account (from the Dagster instance's "
        "recorded syncs) and its share of the per-IP rate limit",
    )
    budget.add_argument("account_id", type=account_id_arg, nargs="?", help="one account's entities")
    budget.add_argument(
        "--egress",
        action="store_true",
        help="per egress: its accounts and their projected share (records the accounts' "
        "projected costs, which the schedules place accounts by)",
    )
    budget.add_argument(
        "--egresses", metavar="A,B", help="with --egress: plan for these egress ids too"
    )
    budget.add_argument("--days", type=_days, default=7, help="window of recorded runs (default 7)")
    budget.add_argument("--markdown", action="store_true", help="print a Markdown table")


def full_rules(
    engine: sa.Engine, settings: Settings, account_id: int, chosen: Collection[str]
) -> list[FullRule]:
    """The full-sync rule of each child entity the account syncs, from its warehouse rows."""
    from hostaway_pipeline import catalog as streams
    from hostaway_pipeline.warehouse.verifications import coverage

    now = datetime.now(UTC)
    specs = [s for s in streams.CATALOG if s.name in chosen]
    return [
        full_rule(c.entity, c.parents, c.never, None if c.oldest is None else now - c.oldest,
                  settings.full_reread_max_requests, settings.message_reverify_days)
        for c in coverage(engine, account_id, specs)
    ]  # fmt: skip


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.egress:
        return run_egress(args, settings)
    if args.account_id is None:
        raise CliError("give an ACCOUNT_ID, or --egress for the budget per egress")
    from hostaway_pipeline.accounts.budget import format_budget
    from hostaway_pipeline.accounts.selection import selected_entities
    from hostaway_pipeline.runs.budget import account_budget
    from hostaway_pipeline.runs.runner import instance_for

    # What the account syncs (its selection, else HOSTAWAY_ENTITIES): only that costs requests.
    repo = account_repo(settings)
    chosen = selected_entities(settings, repo.get(args.account_id))
    budget = account_budget(
        instance_for(settings), settings, args.account_id, args.days, entities=chosen
    )
    rules = full_rules(repo.engine, settings, args.account_id, chosen)
    budget = replace(budget, rules=rules, reread_max_requests=settings.full_reread_max_requests)
    print(format_budget(budget, markdown=args.markdown))
    return 0 if budget.first_record is not None else 1


def run_egress(args: argparse.Namespace, settings: Settings) -> int:
    """Project every active account, record the figures, place the accounts, print per egress."""
    from hostaway_pipeline.accounts.budget import Limits
    from hostaway_pipeline.accounts.selection import selected_entities
    from hostaway_pipeline.egress.placement import place
    from hostaway_pipeline.egress.report import format_egress_budget
    from hostaway_pipeline.egress.store import live_egresses, save_costs
    from hostaway_pipeline.runs.budget import account_budget
    from hostaway_pipeline.runs.runner import instance_for
    from hostaway_pipeline.settings import egress_id

    repo = account_repo(settings)
    instance = instance_for(settings)
    infos = [i for i in repo.list_accounts() if i.active]
    costs = {}
    for info in infos:
        budget = account_budget(
            instance, settings, info.account_id, args.days, selected_entities(settings, info)
        )
        if budget.first_record is not None:
            costs[info.account_id] = budget.projected
    save_costs(repo.engine, costs)
    planned = [egress_id(e.strip(), "--egresses") for e in (args.egresses or "").split(",") if e]
    pinned = {i.account_id: i.egress for i in infos if i.egress}
    egresses = sorted(set(live_egresses(repo.engine)) | set(pinned.values()) | set(planned))
    placement = place(
        [i.account_id for i in infos], egresses or [settings.egress_id], costs, pinned
    )
    limits = Limits(
        settings.rate_limit_per_ip, settings.rate_limit_per_account, settings.rate_limit_window_s
    )
    print(format_egress_budget(placement, limits, args.days))
    return 1 if placement.over(limits.per_day(limits.per_ip)) else 0
