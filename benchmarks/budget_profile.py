"""The README's request budget table: one typical account, synced through Dagster, then measured.

    python -m benchmarks.budget_profile [--db-url URL] [--home DIR]

A sandbox account of the issue's typical size (50 listings, 2,000 reservations, 1,500
conversations with ~5 messages each) is synced in full by the real sync job (in process, on a
throwaway Dagster instance under DIR), and the global reference lists' daily job once. The warehouse is then aged as if that full sync had run 8
days ago (sync state 8 days back, rows 8 days and 2 hours back, beyond the 60-minute lookback),
so every entity is due, whatever its cadence. A typical half hour of changes is made in the
sandbox (3 reservations updated, 1 cancelled, 1 new, a message in 4 conversations, 1 listing
repriced) and the incremental sync job runs once, then the full one again (the next night's: it
refetches changed parents and a re-verification slice, not everything). Then `hostaway-pipeline budget ID --markdown`
prints the table, under the documented limits (15 per IP and 20 per account per 10 s): request
counts do not depend on the limits, so the syncs themselves run under raised ones to finish fast.

Needs a PostgreSQL database it may wipe (its `hostaway` schema is dropped first).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

from hostaway_sandbox import SandboxServer, SeedSpec

TYPICAL = SeedSpec(
    accounts=1, listings=50, reservations=2000, conversation_ratio=0.75,
    messages_per_conversation=5, seed=11,
)  # fmt: skip
FAST = "1000"  # requests per 10 s while syncing: counts do not depend on it
AGE_STATE, AGE_ROWS = "8 days", "8 days 2 hours"


def _age(engine: sa.Engine) -> None:
    """As if the full sync ran 8 days ago and nothing changed since."""
    from hostaway_pipeline.warehouse import schema

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE hostaway.sync_state SET last_started_at = last_started_at - interval "
                f"'{AGE_STATE}', last_finished_at = last_finished_at - interval '{AGE_STATE}', "
                f"last_full_sync_at = last_full_sync_at - interval '{AGE_STATE}'"
            )
        )
        for table in schema.ENTITY_TABLES.values():
            conn.execute(
                sa.text(
                    f"UPDATE hostaway.{table.name} SET synced_at = synced_at - interval "
                    f"'{AGE_ROWS}', first_seen_at = first_seen_at - interval '{AGE_ROWS}'"
                )
            )


def _half_hour_of_changes(server: SandboxServer, account: int) -> None:
    state = server.state
    reservations = state.reservations(account)
    for res in reservations[-3:]:
        state.update_reservation(account, res["id"], numberOfGuests=2)
    state.cancel_reservation(account, reservations[-4]["id"])
    state.add_reservation(account)
    for conversation in state.conversations(account)[:4]:
        state.add_message(account, conversation["id"], body="Late check-in?", incoming=True)
    state.update_listing(account, state.listings(account)[0]["id"], price=210)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.budget_profile")
    parser.add_argument(
        "--db-url", default="postgresql+psycopg://root@127.0.0.1:5432/hostaway_budget_profile"
    )
    parser.add_argument("--home", default=None, help="folder for the Dagster instance (temp)")
    args = parser.parse_args(argv)
    from benchmarks.warehouse import fresh_warehouse, new_secret_key
    from hostaway_pipeline import cli
    from hostaway_pipeline.definitions import build_definitions
    from hostaway_pipeline.defs.entities.reference import REFERENCE_JOB_NAME
    from hostaway_pipeline.runs.runner import format_summary, instance_for, run_sync
    from hostaway_pipeline.settings import Settings

    home = Path(args.home or tempfile.mkdtemp(prefix="budget-profile-"))
    key = new_secret_key()
    with SandboxServer(seed=TYPICAL, rate_limit_per_ip=None, rate_limit_per_account=None) as server:
        (account,) = server.state.account_ids()
        engine = fresh_warehouse(args.db_url, key, {account: server.state.secret(account)})
        os.environ.update(
            HOSTAWAY_HOME=str(home), DAGSTER_HOME=str(home / "dagster"),
            HOSTAWAY_API_URL=server.url, HOSTAWAY_DATABASE_URL=args.db_url,
            HOSTAWAY_SECRET_KEY=key,
            HOSTAWAY_RATE_LIMIT_PER_IP=FAST, HOSTAWAY_RATE_LIMIT_PER_ACCOUNT=FAST,
        )  # fmt: skip
        settings = Settings.from_env()
        defs, instance = build_definitions(settings), instance_for(settings)
        print(format_summary(run_sync(defs, instance, [account], "full")))
        # The global lists' daily job (one run for every account, with this account's token).
        reference = defs.resolve_job_def(REFERENCE_JOB_NAME).execute_in_process(instance=instance)
        print(f"reference lists: {'ok' if reference.success else 'FAILED'}")
        _age(engine)
        engine.dispose()
        _half_hour_of_changes(server, account)
        print(format_summary(run_sync(defs, instance, [account], "incremental")))
        # The next night's full sync: changed parents and a re-verification slice, not a reload.
        print(format_summary(run_sync(defs, instance, [account], "full")))
    for name in ("HOSTAWAY_RATE_LIMIT_PER_IP", "HOSTAWAY_RATE_LIMIT_PER_ACCOUNT"):
        del os.environ[name]  # the budget against the documented limits
    print()
    return cli.main(["budget", str(account), "--markdown"])


if __name__ == "__main__":
    raise SystemExit(main())
