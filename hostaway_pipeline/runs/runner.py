"""Running the sync job for accounts from the command line, recorded in the Dagster instance."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from hostaway_pipeline.accounts.ids import account_key
from hostaway_pipeline.catalog import GLOBAL_ACCOUNT, Scope
from hostaway_pipeline.defs._support.logs import LEVEL_TAG
from hostaway_pipeline.defs._support.tags import run_tags
from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import run_mode_tag, sync_run_config
from hostaway_pipeline.defs.entities.partitions import ACCOUNTS_NAME
from hostaway_pipeline.defs.entities.reference import REFERENCE_JOB_NAME
from hostaway_pipeline.runs.embedded import write_embedded_config
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse.files import ensure_private_dir

SUCCESS = dg.DagsterRunStatus.SUCCESS
SUMMARY_KEYS = ("records_fetched", "inserted", "updated", "unchanged", "soft_deleted")


@dataclass
class AccountRun:
    """The outcome of one account's run, for the command-line summary."""

    account_id: int
    run_id: str
    success: bool
    error: str | None = None
    assets: dict[str, dict[str, object]] = field(default_factory=dict)
    # Entities Hostaway refuses to the account (skipped; see sync/availability.py): asset -> why.
    unavailable: dict[str, str] = field(default_factory=dict)

    def observe(self, event: dg.DagsterEvent) -> None:
        """Note an asset observation of the run (an entity reported unavailable)."""
        seen = event.event_specific_data.asset_observation  # type: ignore[union-attr]
        if "unavailable" in seen.metadata:
            self.unavailable[seen.asset_key.to_user_string()] = str(seen.metadata["reason"].value)

    def _per_step(self, key: str) -> float:
        # Conversations and messages share one engine run; count each run's figures once.
        values = {
            (str(meta.get("step")), str(meta.get("stream"))): meta.get(key, 0)
            for meta in self.assets.values()
        }
        return sum(float(v) for v in values.values() if isinstance(v, int | float))

    @property
    def requests(self) -> int:
        return int(self._per_step("api_requests"))

    @property
    def sync_seconds(self) -> float:
        return self._per_step("duration_s")


def instance_for(settings: Settings) -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME, or an embedded one under the local folder."""
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(Path(settings.home) / "dagster")
    home = ensure_private_dir(Path(os.environ["DAGSTER_HOME"]))  # run logs can hold account data
    write_embedded_config(home)  # unless DAGSTER_HOME holds the operator's own dagster.yaml
    return dg.DagsterInstance.get()


def run_sync(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    account_ids: list[int],
    mode: str,
    lookback_minutes: int = 60,
    log_level: str = "WARNING",
) -> list[AccountRun]:
    """One run of the sync job per account, in turn; failures are reported, not raised."""
    keys = {a: account_key(a) for a in account_ids}  # refuses anything but a positive id
    existing = set(instance.get_dynamic_partitions(ACCOUNTS_NAME))
    new = [k for k in keys.values() if k not in existing]
    if new:
        instance.add_dynamic_partitions(ACCOUNTS_NAME, new)
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    outcomes = []
    for account_id in account_ids:
        run_config = {**sync_run_config(mode, lookback_minutes), **_console(log_level)}
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=keys[account_id],
            # Request lines stay out of the terminal (compute-log capture copies stderr to it).
            tags={
                **run_tags(keys[account_id], run_mode_tag(mode), trigger="cli"),
                LEVEL_TAG: log_level,
            },
            raise_on_error=False,
        )
        outcomes.append(_outcome(result, account_id))
    return outcomes


def run_reference(
    defs: dg.Definitions, instance: dg.DagsterInstance, log_level: str = "WARNING"
) -> AccountRun:
    """One run of the global reference lists (reported as account 0: stored once, not per
    account); failures are reported, not raised."""
    result = defs.resolve_job_def(REFERENCE_JOB_NAME).execute_in_process(
        run_config={**sync_run_config("full", scope=Scope.GLOBAL), **_console(log_level)},
        instance=instance,
        tags={LEVEL_TAG: log_level},
        raise_on_error=False,
    )
    return _outcome(result, GLOBAL_ACCOUNT)


def _outcome(result: dg.ExecuteInProcessResult, account_id: int) -> AccountRun:
    outcome = AccountRun(account_id, result.run_id, result.success)
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization  # type: ignore[union-attr]
        meta = {k: v.value for k, v in mat.metadata.items()}
        meta["step"] = event.step_key
        outcome.assets[mat.asset_key.to_user_string()] = meta
    for event in result.all_events:
        if event.event_type is dg.DagsterEventType.ASSET_OBSERVATION:
            outcome.observe(event)
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = failures[0].step_failure_data.error if failures else None
        outcome.error = root_message(error) if error else "run failed"
    return outcome


def outcome_from_instance(instance: dg.DagsterInstance, account_id: int, run_id: str) -> AccountRun:
    """The outcome of a finished run, read back from the instance's event log."""
    run = instance.get_run_by_id(run_id)
    outcome = AccountRun(account_id, run_id, run is not None and run.status == SUCCESS)
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        event = record.dagster_event
        mat = event.event_specific_data.materialization  # type: ignore[union-attr]
        meta: dict[str, object] = {k: v.value for k, v in mat.metadata.items()}
        meta["step"] = event.step_key  # type: ignore[union-attr]
        outcome.assets[mat.asset_key.to_user_string()] = meta
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION):
        outcome.observe(record.dagster_event)  # type: ignore[arg-type]
    if not outcome.success:
        failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        error = failures[0].dagster_event.step_failure_data.error if failures else None  # type: ignore[union-attr]
        ended = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        fallback = ended[0].message if ended else f"run {run.status.value if run else 'lost'}"
        outcome.error = root_message(error) if error else fallback
    return outcome


def root_message(error: SerializableErrorInfo) -> str:
    """The innermost cause's message: ours, not Dagster's wrapper around it."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _console(level: str) -> dict[str, object]:
    """Run config for the console logger (the instance's event log keeps everything)."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def _own_requests(asset: str, meta: dict[str, object]) -> object:
    """The asset's API requests, or "" when another asset's run made them (conversations)."""
    return meta.get("api_requests", "") if asset.endswith(f"/{meta.get('stream')}") else ""


def format_summary(outcomes: list[AccountRun], per_asset: bool = True) -> str:
    """A plain-text table of what each account's run did (one line per asset, then the run)."""
    head = f"{'account':>10}  {'asset':<40}{'rows':>8}{'requests':>10}"
    lines = [head + "".join(f"{k:>16}" for k in SUMMARY_KEYS)] if per_asset else []
    for run in outcomes:
        # The global lists' run (stored once, under account 0) is labelled as such.
        who = "global" if run.account_id == GLOBAL_ACCOUNT else str(run.account_id)
        for asset, meta in sorted(run.assets.items()) if per_asset else ():
            rows = meta.get("dagster/partition_row_count", "")
            values = "".join(f"{meta.get(k, '')!s:>16}" for k in SUMMARY_KEYS)
            lines.append(
                f"{who:>10}  {asset:<40}{rows!s:>8}{_own_requests(asset, meta)!s:>10}" + values
            )
        for asset, why in sorted(run.unavailable.items()):
            lines.append(f"{who:>10}  {asset:<40}  UNAVAILABLE: {why}")
        status = "ok" if run.success else f"FAILED: {run.error}"
        lines.append(
            f"{who:>10}  run {run.run_id[:8]}: {status}; {run.requests} API requests, "
            f"{run.sync_seconds:.1f} s syncing, {len(run.assets)} assets materialized"
        )
    return "\n".join(lines)


def format_entities(by_mode: dict[str, list[AccountRun]]) -> str:
    """Per entity, over every account: live rows after the last run, and requests per mode
    ("-": not synced in that mode's runs, e.g. a daily entity in an incremental run)."""
    modes = list(by_mode)
    latest: dict[tuple[str, int], int] = {}  # (asset, account) -> live rows, later runs win
    requests: dict[tuple[str, str], int] = {}
    for mode, outcomes in by_mode.items():
        for run in outcomes:
            for asset, meta in run.assets.items():
                live = meta.get("dagster/partition_row_count")
                if isinstance(live, int):
                    latest[(asset, run.account_id)] = live
                spent = _own_requests(asset, meta)
                if isinstance(spent, int):
                    requests[(asset, mode)] = requests.get((asset, mode), 0) + spent
    rows: dict[str, int] = {}
    for (asset, _account), live in latest.items():
        rows[asset] = rows.get(asset, 0) + live
    head = f"{'entity':<42}{'rows':>8}" + "".join(f"{m + ' requests':>24}" for m in modes)
    lines = [head]
    for asset in sorted(rows):
        cells = "".join(f"{requests.get((asset, m), '-')!s:>24}" for m in modes)
        lines.append(f"{asset:<42}{rows[asset]:>8}{cells}")
    return "\n".join(lines)
