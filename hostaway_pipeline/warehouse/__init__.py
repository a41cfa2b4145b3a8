"""The warehouse layer: every table (schema.py), migrations, upserts and sync state.

No Dagster and no HTTP here; the client reaches this layer only through client.ports protocols.
"""

from __future__ import annotations

from hostaway_pipeline.warehouse import db, schema

__all__ = ["db", "schema"]
