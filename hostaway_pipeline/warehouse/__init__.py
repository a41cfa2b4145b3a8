"""The warehouse layer: SQLAlchemy tables, migrations, upserts and sync state.

No Dagster and no HTTP here; the client reaches this layer only through client.ports protocols.
"""

from __future__ import annotations

from hostaway_pipeline.egress import store as egress  # noqa: F401  registers its table
from hostaway_pipeline.warehouse import child_marks as child_marks  # registers its table
from hostaway_pipeline.warehouse import db, schema
from hostaway_pipeline.warehouse import verifications as verifications  # registers its table
from hostaway_pipeline.webhooks.store import events as webhook_events  # noqa: F401  its table
from hostaway_pipeline.webhooks.store import registrations as webhook_registrations  # noqa: F401

__all__ = ["db", "schema"]
