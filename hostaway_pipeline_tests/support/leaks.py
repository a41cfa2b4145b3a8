"""Searching everything a run leaves behind for secrets and guest data (the fault suites)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from hostaway_pipeline.defs.accounts.jobs import SYNC_JOB_NAME
from hostaway_pipeline.defs.entities.config import sync_run_config
from hostaway_pipeline.warehouse import schema

ENTITY_TABLES = tuple(schema.ENTITY_TABLES)  # derived from the catalog


def run(defs: dg.Definitions, instance: dg.DagsterInstance, account: int,
        mode: str) -> dg.ExecuteInProcessResult:  # fmt: skip
    """The sync job of one account, in process, with a 5 minute lookback."""
    return defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        run_config=sync_run_config(mode, lookback_minutes=5),
        instance=instance,
        partition_key=str(account),
        raise_on_error=False,
    )


def table_texts(engine: sa.Engine, skip_payload: bool) -> list[str]:
    """Every row of every table in schema hostaway as text (payload left out if asked)."""
    texts = []
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            columns = [c for c in table.columns if not (skip_payload and c.name == "payload")]
            for row in conn.execute(sa.select(*columns)):
                texts.append(" ".join(map(str, row)))
        # and whatever else lives in the schema (alembic_version, tables added later)
        names = conn.scalars(sa.text("SELECT tablename FROM pg_tables WHERE schemaname='hostaway'"))
        for name in names:
            if name in ENTITY_TABLES and skip_payload:
                continue
            texts += [
                r[0] for r in conn.execute(sa.text(f'SELECT t::text FROM hostaway."{name}" t'))
            ]
    return texts


def instance_files(instance: dg.DagsterInstance) -> list[str]:
    """The text of every file of the Dagster instance."""
    root = Path(instance.root_directory)
    return [p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()]


def find(places: dict[str, list[Any]], needles: list[str]) -> list[str]:
    """Where each needle occurs in the texts of each place (with what precedes it)."""
    found = []
    for place, texts in places.items():
        blob = "\n".join(map(str, texts))
        for needle in needles:
            if needle in blob:
                at = blob.index(needle)
                found.append(f"{place}: {needle[:12]}... near {blob[max(0, at - 80) : at]!r}")
    return found
