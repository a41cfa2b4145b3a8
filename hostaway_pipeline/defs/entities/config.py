"""Run configuration of the sync assets, visible and editable in the launchpad."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Literal

import dagster as dg
from pydantic import Field

from hostaway_pipeline import catalog as streams
from hostaway_pipeline.catalog import Scope


def sync_asset_ops(scope: Scope = Scope.ACCOUNT) -> tuple[str, ...]:
    """The op of every sync step of `scope` (account-partitioned, or the global reference lists),
    derived from the catalog (a missed op would run incremental)."""
    return tuple(dict.fromkeys(s.asset_name for s in streams.STREAMS if s.scope is scope))


SYNC_ASSET_OPS = sync_asset_ops()


class SyncConfig(dg.Config):
    """How a sync asset fetches its account's data."""

    mode: Literal["full", "incremental"] = Field(
        default="incremental",
        description="full: fetch everything and soft-delete rows the API no longer has; "
        "incremental: fetch only what changed since the last watermark.",
    )
    lookback_minutes: int = Field(
        default=60,
        ge=0,
        description="Incremental windows start this far before the watermark, to absorb clock skew "
        "between Hostaway and us and rows that changed while the previous run paged.",
    )

    reconcile: bool = Field(
        default=False,
        description="With mode full: re-read every child of every parent (fees of every "
        "listing, finance fields of every reservation, messages of every conversation), not "
        "only the changed parents, the cheap entities and the re-verification slice.",
    )

    @property
    def lookback(self) -> timedelta:
        return timedelta(minutes=self.lookback_minutes)


def run_mode_tag(mode: str) -> str:
    """The mode a run is tagged with: a reconcile is a full sync (it covers a pending full)."""
    return "full" if mode == "reconcile" else mode


def sync_run_config(
    mode: str,
    lookback_minutes: int = 60,
    scope: Scope = Scope.ACCOUNT,
    only: Collection[str] | None = None,
) -> dict[str, object]:
    """Run config that sets the same mode on every sync step (run config replaces defaults);
    `only`: the steps of a run that executes a subset of the job (config for others is refused)."""
    # "reconcile": a full sync that re-reads every child (SyncConfig.reconcile).
    config: dict[str, object] = {"mode": mode, "lookback_minutes": lookback_minutes}
    if mode == "reconcile":
        config.update(mode="full", reconcile=True)
    ops = [op for op in sync_asset_ops(scope) if only is None or op in only]
    return {"ops": {op: {"config": dict(config)} for op in ops}}
