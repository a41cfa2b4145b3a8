"""`load_defs_folder` builds the defs folder's own definitions: the same assets, checks, jobs,
sensors and schedules as Dagster's whole-project load (`ComponentTree.build_defs()`), without the
description of every installed component type that the project root adds (definitions.py)."""

from __future__ import annotations

import warnings

import dagster as dg
from dagster.components.core.component_tree import ComponentTree

import hostaway_pipeline.defs
from hostaway_pipeline.definitions import PACKAGE, load_defs_folder


def _inventory(defs: dg.Definitions) -> dict[str, list[str]]:
    return {
        "assets": sorted(k.to_user_string() for a in defs.assets or () for k in a.keys),
        "checks": sorted(str(k) for c in defs.asset_checks or () for k in c.check_keys),
        "jobs": sorted(j.name for j in defs.jobs or ()),
        "sensors": sorted(s.name for s in defs.sensors or ()),
        "schedules": sorted(s.name for s in defs.schedules or ()),
    }


def test_the_folder_load_has_every_definition_of_the_project_load_and_no_component_catalog() -> (
    None
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        whole = ComponentTree.from_module(
            defs_module=hostaway_pipeline.defs, project_root=PACKAGE.parent
        ).build_defs()
    folder = load_defs_folder()

    assert "plugin_component_types_json" in (whole.metadata or {})  # what the root adds
    assert "plugin_component_types_json" not in (folder.metadata or {})
    inventory = _inventory(folder)
    assert inventory == _inventory(whole)
    assert inventory["assets"] and inventory["checks"] and inventory["sensors"]
