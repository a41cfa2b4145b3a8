"""What a scheduled incremental run of an account materializes: only the entities that are due.

A run that plans every asset of the job and materializes six records every other asset's checks
as planned and never run (h14's profile: 94 of a quiet run's 161 event-log rows). So the
incremental schedule asks for the due entities the account selects (their cadence elapsed, from `sync_state` in one
query for every account), the marts whose inputs are all in the run, and those assets' checks (the account-wide
freshness and quiet-webhook checks included).
A full run, a sensor's run and a run launched by hand are the whole job, as before; the steps
still skip what is not due, so both agree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import Scope
from hostaway_pipeline.defs.entities.assets import asset_key, materialized_by
from hostaway_pipeline.warehouse.freshness import last_finished


@dataclass(frozen=True)
class Due:
    """One account's run: its assets, their checks, and the sync steps that have config."""

    assets: list[dg.AssetKey]
    checks: list[dg.AssetCheckKey]
    steps: frozenset[str]


class DueSelection:
    """The due assets and checks of each account at one schedule tick."""

    def __init__(self, engine: sa.Engine, graph: dg.AssetGraph, now: datetime) -> None:
        self._last = last_finished(engine)
        self._graph = graph
        self._now = now
        catalog = {asset_key(s) for s in streams.CATALOG}
        job_keys = {k for k in graph.get_all_asset_keys() if k.path[0] == "hostaway"}
        # Assets computed from the tables (the marts), with the tables they read.
        self._derived = {k: graph.get(k).parent_keys for k in job_keys - catalog}

    def of(self, account_id: int, selected: Collection[str]) -> Due:
        """The account's run: of the entities it `selected` (table names), those due."""
        keys: set[dg.AssetKey] = set()
        steps: set[str] = set()
        for spec in streams.STREAMS:
            if spec.scope is not Scope.ACCOUNT or spec.table not in selected:
                continue
            if spec.cadence.due(self._last.get((account_id, spec.name)), self._now):
                keys |= {asset_key(s) for s in materialized_by(spec)}
                steps.add(spec.asset_name)
        keys |= {
            k for k, reads in self._derived.items()
            if reads and reads <= keys and k.path[-1] in selected
        }  # fmt: skip
        # The account-wide checks (freshness, quiet webhooks) too: evaluated after the run's
        # materializations, so the UI shows every check of an asset for its latest one.
        checks = [c for c in self._graph.asset_check_keys if c.asset_key in keys]
        return Due(sorted(keys, key=str), sorted(checks, key=str), frozenset(steps))
