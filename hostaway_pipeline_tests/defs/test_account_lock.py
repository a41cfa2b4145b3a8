"""A run of an account launched outside the queue's count (a single-partition range, no
`dagster/partition` tag) waits behind the same account's running sync; another account's does not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline.defs._support.tags import RANGE_END_TAG, RANGE_START_TAG, run_account
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.warehouse.locks import advisory_key
from hostaway_pipeline_tests.e2e.processes import wait_for
from hostaway_pipeline_tests.helpers import Wired
from hostaway_sandbox import SandboxServer


def waiting_on(name: str) -> sa.TextClause:
    """Whether a session waits for the advisory lock `name` (a bigint key: classid, objid)."""
    key = advisory_key(name) & 0xFFFFFFFFFFFFFFFF
    return sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        f"AND classid::bigint = {key >> 32} AND objid::bigint = {key & 0xFFFFFFFF} "
        "AND objsubid = 1"
    )


def test_run_account_reads_a_partition_or_a_range_of_one() -> None:
    assert run_account({"dagster/partition": "12"}) == "12"
    assert run_account({RANGE_START_TAG: "12", RANGE_END_TAG: "12"}) == "12"
    assert run_account({RANGE_START_TAG: "12", RANGE_END_TAG: "13"}) is None
    assert run_account({}) is None


def test_a_single_partition_range_run_waits_behind_the_account_s_running_sync(
    defs: dg.Definitions, instance: dg.DagsterInstance, wired: Wired, sandbox: SandboxServer
) -> None:
    account = sandbox.state.account_ids()[0]
    key = str(account)
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [key])
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    opened, calls = threading.Event(), []

    def hold(method: str, path: str, query: dict[str, str], account_id: int | None) -> None:
        if account_id == account and "accessTokens" not in path:
            calls.append(path)
            opened.wait(120)  # under the client's read timeout only while the test runs

    sandbox.hooks.before_response = hold
    results: dict[str, dg.ExecuteInProcessResult] = {}

    def launch(name: str, **kwargs: object) -> Callable[[], None]:
        def go() -> None:
            results[name] = job.execute_in_process(
                run_config=sync_run_config("full"), instance=instance, raise_on_error=False,
                **kwargs,  # type: ignore[arg-type]
            )  # fmt: skip

        return go

    first = threading.Thread(target=launch("partition", partition_key=key))
    ranged = threading.Thread(
        target=launch("range", tags={RANGE_START_TAG: key, RANGE_END_TAG: key})
    )
    engine = sa.create_engine(wired.engine.url)
    try:
        first.start()
        wait_for(lambda: calls, 120, "the first run's first API request", every_s=0.1)
        ranged.start()
        # The range run is blocked on the account's lock (PostgreSQL shows the waiting lock),
        # while the first run is held at its first request: it has sent nothing itself.
        with engine.connect() as conn:
            lock = waiting_on(f"hostaway_pipeline.account_run.{key}")
            wait_for(lambda: conn.scalar(lock), 120, "the range run's wait for the account lock")
        assert len(calls) == 1
    finally:
        opened.set()
        first.join(300)
        ranged.join(300)
        sandbox.hooks.before_response = None
        engine.dispose()
    assert results["partition"].success and results["range"].success
    first_done = max(
        e.timestamp for e in instance.all_logs(results["partition"].run_id)
    )  # the first run's last event
    range_synced = [
        e.timestamp
        for e in instance.all_logs(
            results["range"].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        )
    ]
    assert range_synced and min(range_synced) > first_done
