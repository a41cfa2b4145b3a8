"""The sync assets: one per standalone catalog stream (a child syncs with its parent)."""

from __future__ import annotations

from hostaway_pipeline.defs.entities.assets import build_sync_assets

SYNC_ASSETS = build_sync_assets()
