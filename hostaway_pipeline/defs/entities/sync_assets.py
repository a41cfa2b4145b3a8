"""The sync assets: one per standalone catalog stream (a child syncs with its parent).

Built each time the definitions load (a `@dg.definitions` function the defs folder calls), so
they follow the catalog as it is then.
"""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.defs.entities.assets import build_sync_assets


@dg.definitions
def sync_assets() -> dg.Definitions:
    return dg.Definitions(assets=build_sync_assets())
