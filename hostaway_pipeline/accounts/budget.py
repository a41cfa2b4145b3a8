"""Request budget per entity: what each entity costs an account per day, against the IP's limit.

Plain data in, plain table out (no Dagster here): the Dagster layer (`runs/budget.py`) reads the
recorded costs (each materialization's `api_requests` and `mode`) and the schedules' ticks.

Two figures per entity:
- recorded/day: the requests recorded in the window, divided by the window's days. True when the
  schedules ran the whole window; an account synced only by hand shows less.
- projected/day: the recorded average cost of one full and one incremental sync, times how often
  the schedules sync the entity per day. That frequency is simulated over the ticks with the
  engine's own rule (`Cadence.due`): a full run syncs every entity; an incremental one only those
  whose cadence elapsed. A full and an incremental tick at the same minute count as the full run
  only (the schedule skips an incremental that a queued full covers).

A child whose parent has no asset of its own (messages, listed with conversations) carries the
requests of both; the parent's row points to it instead of counting them twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hostaway_pipeline.catalog import Cadence, Incremental, Scope, StreamSpec

DAY_S = 86400.0
FULL, INCREMENTAL = "full", "incremental"


@dataclass(frozen=True)
class Cost:
    """One recorded sync of one entity (one materialization's metadata)."""

    entity: str
    mode: str
    requests: int
    at: datetime
    # A full sync that inserted every row it fetched: the account's first load (a backfill),
    # not what its daily full syncs cost later.
    initial: bool = False


@dataclass(frozen=True)
class Limits:
    """Hostaway's rate limits as configured (Settings): requests per window of seconds."""

    per_ip: int
    per_account: int
    window_s: float

    def per_day(self, requests_per_window: int) -> float:
        return requests_per_window * DAY_S / self.window_s


Tick = tuple[datetime, str]  # (scheduled time, mode)


def syncs_per_day(cadence: Cadence, ticks: Sequence[Tick], days: int) -> dict[str, float]:
    """Syncs per day by mode of an entity of `cadence`, over the last `days` of `ticks`.

    The ticks before those `days` only warm the simulation up (the entity's last sync).
    """
    ordered = sorted(ticks, key=lambda t: (t[0], t[1] != FULL))  # full first at equal times
    if not ordered:
        return {FULL: 0.0, INCREMENTAL: 0.0}
    counted_from = ordered[-1][0] - timedelta(days=days)
    counts = {FULL: 0, INCREMENTAL: 0}
    last: datetime | None = None
    previous: datetime | None = None
    for at, mode in ordered:
        if mode == INCREMENTAL and at == previous:
            continue  # the full run of this minute covers it
        previous = at
        if mode == FULL or cadence.due(last, at):
            last = at
            if at > counted_from:
                counts[mode] += 1
    return {mode: n / days for mode, n in counts.items()}


@dataclass(frozen=True)
class EntityBudget:
    name: str
    cadence: Cadence
    incremental: Incremental
    scope: Scope
    runs: dict[str, int]  # recorded syncs in the window, by mode
    recorded: int  # requests recorded in the window
    average: dict[str, float | None]  # requests per sync, by mode (None: never recorded)
    per_day_syncs: dict[str, float]
    carried_by: str | None = None  # the child whose rows carry this entity's requests
    estimated: bool = False  # the incremental cost is the full one (whole list either way)

    @property
    def projected(self) -> float | None:
        """Requests per day on the schedules, or None when a needed cost was never recorded."""
        total = 0.0
        for mode, syncs in self.per_day_syncs.items():
            if syncs:
                avg = self.average[mode]
                if avg is None:
                    return None
                total += syncs * avg
        return total


@dataclass(frozen=True)
class FullRule:
    """How a full sync re-reads a child entity's unchanged parents for the account: all of them
    when that costs at most the threshold in requests (one per live parent), else a slice."""

    entity: str
    parents: int  # live parents: the requests of a complete re-read (`sync --mode reconcile`)
    whole: bool
    per_full: int  # unchanged parents one full sync re-reads
    oldest_age: timedelta | None  # since the stalest live parent's children were read whole
    never: int  # live parents never read (the next sync reads them)


def full_rule(
    entity: str, parents: int, never: int, oldest_age: timedelta | None, max_requests: int,
    reverify_days: int,
) -> FullRule:  # fmt: skip
    """The full-sync rule of one child entity (sync/reverify.py's, as figures)."""
    whole = parents <= max_requests
    per_full = parents if whole else -(-parents // max(1, reverify_days))
    return FullRule(entity, parents, whole, per_full, oldest_age, never)


def format_rules(rules: Sequence[FullRule], max_requests: int) -> list[str]:
    """One line per child entity: the rule, its cost per full sync, the oldest unverified age."""
    if not rules:
        return []
    lines = [
        f"full-sync rule per child entity (re-read whole when that costs at most {max_requests:,}"
        " requests, HOSTAWAY_FULL_REREAD_MAX_REQUESTS; else a rolling slice; `sync --mode "
        "reconcile` re-reads every child):"
    ]
    for r in rules:
        how = "whole" if r.whole else f"slice of {r.per_full:,}"
        age = "-" if r.oldest_age is None else f"{r.oldest_age / timedelta(days=1):.1f} days"
        never = f", {r.never:,} never read" if r.never else ""
        lines.append(
            f"  {r.entity}: {how} of {r.parents:,} parents ({r.per_full:,} requests per full "
            f"sync, {r.parents:,} to reconcile); oldest unverified parent {age}{never}"
        )
    return lines


@dataclass(frozen=True)
class Budget:
    account_id: int
    days: int
    limits: Limits
    rows: list[EntityBudget] = field(default_factory=list)
    first_record: datetime | None = None
    rules: list[FullRule] = field(default_factory=list)  # per child entity (format_rules)
    reread_max_requests: int = 200

    def _rows(self, scope: Scope) -> list[EntityBudget]:
        return [r for r in self.rows if r.scope is scope and r.carried_by is None]

    @property
    def recorded(self) -> int:
        return sum(r.recorded for r in self._rows(Scope.ACCOUNT))

    @property
    def projected(self) -> float:
        """The account's projected requests per day (entities never recorded count 0)."""
        return sum(r.projected or 0.0 for r in self._rows(Scope.ACCOUNT))

    @property
    def global_projected(self) -> float:
        return sum(r.projected or 0.0 for r in self._rows(Scope.GLOBAL))


def _average(costs: list[Cost], mode: str) -> float | None:
    """Mean requests of the mode's syncs, leaving out initial loads when others were recorded."""
    found = [c for c in costs if c.mode == mode]
    later = [c for c in found if not c.initial] or found
    return sum(c.requests for c in later) / len(later) if later else None


def entity_budget(
    account_id: int,
    specs: Sequence[StreamSpec],
    entities: Collection[str],
    costs: Iterable[Cost],
    limits: Limits,
    ticks: Mapping[Scope, Sequence[Tick]],
    days: int,
) -> Budget:
    """The budget of the `entities` (names) an account syncs, from its recorded `costs` in the
    last `days` and the schedules' `ticks` per scope (several days of them, see syncs_per_day)."""
    by_entity: dict[str, list[Cost]] = {}
    for cost in costs:
        by_entity.setdefault(cost.entity, []).append(cost)
    carriers = {s.parent.name: s.name for s in specs if s.parent and not s.parent.standalone}
    rows = []
    for spec in specs:
        if spec.name not in entities:
            continue
        mine = by_entity.get(spec.name, []) if spec.name not in carriers else []
        average = {mode: _average(mine, mode) for mode in (FULL, INCREMENTAL)}
        estimated = False
        if average[INCREMENTAL] is None and spec.incremental is Incremental.FULL_LISTING:
            average[INCREMENTAL], estimated = average[FULL], average[FULL] is not None
        rows.append(
            EntityBudget(
                name=spec.name,
                cadence=spec.cadence,
                incremental=spec.incremental,
                scope=spec.scope,
                runs={mode: sum(c.mode == mode for c in mine) for mode in (FULL, INCREMENTAL)},
                recorded=sum(c.requests for c in mine),
                average=average,
                per_day_syncs=syncs_per_day(spec.cadence, ticks.get(spec.scope, ()), days),
                carried_by=carriers.get(spec.name),
                estimated=estimated,
            )
        )
    first = min((c.at for cs in by_entity.values() for c in cs), default=None)
    return Budget(account_id, days, limits, rows, first)


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


HEADER = (
    "entity", "cadence", "incremental", "full", "incr", "recorded", "recorded/day",
    "req/full", "req/incr", "syncs/day", "projected/day", "%IP/day",
)  # fmt: skip


def _cells(row: EntityBudget, budget: Budget) -> list[str]:
    if row.carried_by:
        first = [row.name, row.cadence.value, row.incremental.value, f"(in {row.carried_by})"]
        return first + ["-"] * (len(HEADER) - len(first))
    ip_day = budget.limits.per_day(budget.limits.per_ip)
    projected = row.projected
    syncs = row.per_day_syncs[FULL] + row.per_day_syncs[INCREMENTAL]
    return [
        row.name,
        row.cadence.value,
        row.incremental.value,
        str(row.runs[FULL]),
        str(row.runs[INCREMENTAL]),
        f"{row.recorded:,}",
        _num(row.recorded / budget.days, 1),
        _num(row.average[FULL], 1),
        _num(row.average[INCREMENTAL], 1) + ("*" if row.estimated else ""),
        _num(syncs, 2),
        _num(projected, 0),
        "-" if projected is None else f"{100 * projected / ip_day:.3f}",
    ]


def format_budget(budget: Budget, markdown: bool = False) -> str:
    """The budget as a text (or Markdown) table with the account's totals below it."""
    limits = budget.limits
    ip_day, account_day = limits.per_day(limits.per_ip), limits.per_day(limits.per_account)
    if budget.first_record is None:
        return (
            f"account {budget.account_id}: the Dagster instance has no recorded sync of it in the "
            f"last {budget.days} days, so there is no budget to show; run "
            f"`hostaway-pipeline sync --account {budget.account_id}` (or let the schedules run) "
            "first"
        )
    table = [list(HEADER)] + [_cells(r, budget) for r in budget.rows]
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in table]
        lines.insert(1, "|" + "|".join("---" if i < 3 else "--:" for i in range(len(HEADER))) + "|")
    else:
        widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
        lines = [
            "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in table
        ]
    projected = budget.projected
    lines += [
        "",
        f"account {budget.account_id}, last {budget.days} days (records from "
        f"{budget.first_record:%Y-%m-%d %H:%M} UTC): {budget.recorded:,} requests recorded "
        f"({budget.recorded / budget.days:,.1f}/day); projected {projected:,.0f}/day on the "
        f"schedules = {100 * projected / ip_day:.2f} % of the per-IP budget "
        f"({limits.per_ip} per {limits.window_s:g} s = {ip_day:,.0f}/day) and "
        f"{100 * projected / account_day:.2f} % of the per-account one ({account_day:,.0f}/day)",
    ]
    if any(r.scope is Scope.GLOBAL for r in budget.rows):
        lines.append(
            f"global lists (one run for every account, not charged to this one): projected "
            f"{budget.global_projected:,.0f}/day"
        )
    lines.append(
        "req/full leaves out initial loads (a full sync that inserted every row it fetched) "
        "when a later full sync was recorded"
    )
    lines += format_rules(budget.rules, budget.reread_max_requests)
    if any(r.estimated for r in budget.rows):
        lines.append("* no incremental recorded: a full listing costs the same either way")
    if any(r.projected is None and not r.carried_by for r in budget.rows):
        lines.append("- never recorded in this mode in the window: not in the projection")
    return "\n".join(lines)
