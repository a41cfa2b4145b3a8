"""Every asset spec, snapshotted: any change to keys, deps, partitions, metadata keys, kinds,
owners or checks is a reviewed diff of `snapshots/asset_specs.json`.

Regenerate after an intended change (then review and commit the diff):
    HOSTAWAY_UPDATE_SNAPSHOTS=1 .venv/bin/pytest hostaway_pipeline_tests/defs/test_asset_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hostaway_pipeline.definitions import build_definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_specs.json"


def _snapshot() -> dict[str, Any]:
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    out: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        out[key.to_user_string()] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(partitions).__name__ if partitions else None,
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "metadata_keys": sorted(node.metadata),
            "columns": [c.name for c in node.metadata["dagster/column_schema"].columns]
            if "dagster/column_schema" in node.metadata
            else None,
            "checks": sorted(c.name for c in graph.get_check_keys_for_assets([key])),
            "op": graph.assets_def_for_key(key).op.name,
        }
    return out


def test_asset_specs_match_the_checked_in_snapshot() -> None:
    current = json.dumps(_snapshot(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("HOSTAWAY_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), "no snapshot yet: run with HOSTAWAY_UPDATE_SNAPSHOTS=1"
    assert json.loads(current) == json.loads(SNAPSHOT.read_text()), (
        "asset specs drifted from snapshots/asset_specs.json: if intended, rerun with "
        "HOSTAWAY_UPDATE_SNAPSHOTS=1 and commit the reviewed diff"
    )


def test_snapshot_covers_every_catalog_stream() -> None:
    from hostaway_pipeline import catalog as streams

    recorded = json.loads(SNAPSHOT.read_text())
    assert {f"hostaway/{s.name}" for s in streams.CATALOG} <= set(recorded)
