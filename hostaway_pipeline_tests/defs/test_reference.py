"""The global reference lists: one run a day for every account, stored once under account 0,
through the real schedule evaluation and real Dagster execution."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline import catalog
from hostaway_pipeline.defs.entities.reference import REFERENCE_JOB_NAME, REFERENCE_SCHEDULE
from hostaway_pipeline.runs.runner import run_reference
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer

pytestmark = pytest.mark.catalog  # syncs every catalog entity

GLOBAL = [s for s in catalog.CATALOG if s.scope is catalog.Scope.GLOBAL]


def tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.RunRequest | dg.SkipReason:
    repo = defs.get_repository_def()
    schedule = repo.get_schedule_def(REFERENCE_SCHEDULE)
    resources = {k: v for k, v in repo.get_top_level_resources().items() if k == "warehouse"}
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime.now(UTC), repository_def=repo,
        resources=resources,
    ) as context:  # fmt: skip
        data = schedule.evaluate_tick(context)
    if data.run_requests:
        (request,) = data.run_requests
        assert dg.validate_run_config(defs.resolve_job_def(REFERENCE_JOB_NAME), request.run_config)
        return request
    assert data.skip_message
    return dg.SkipReason(data.skip_message)


def test_global_lists_are_synced_once_for_all_accounts_and_then_not_until_due(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    assert isinstance(tick(defs, instance), dg.RunRequest)  # never synced: due
    sandbox.stats.reset()
    outcome = run_reference(defs, instance)
    assert outcome.success, outcome.error
    assert {f"hostaway/{s.name}" for s in GLOBAL} == outcome.assets.keys()
    first = min(wired.repo.list_accounts(), key=lambda a: a.account_id).account_id
    assert sandbox.stats.by_account() == {first: sandbox.stats.total}  # one account's token
    with wired.engine.connect() as conn:
        for spec in GLOBAL:
            table = schema.table(spec.table)
            owners = set(conn.scalars(sa.select(table.c.account_id).distinct()))
            served = len(sandbox.state.catalog_rows(spec.name, first))
            assert owners == {0}, spec.name  # stored once, not per account
            assert outcome.assets[f"hostaway/{spec.name}"]["dagster/partition_row_count"] == served
    assert isinstance(tick(defs, instance), dg.SkipReason)  # synced today: no empty run


def test_no_run_without_an_account_to_fetch_the_lists_with(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired
) -> None:
    for info in wired.repo.list_accounts():
        wired.repo.disable(info.account_id)
    skipped = tick(defs, instance)
    assert isinstance(skipped, dg.SkipReason) and "no active account" in str(skipped.skip_message)
