"""The code location: the definitions under defs/ (loaded from the folder, one folder per domain)
plus what depends on Settings (the polling schedules, the cleanup job, the resources).

Lazy: `defs` is a `@dg.definitions` function, so importing this module builds nothing; Dagster
calls it when it loads the code location. Tests call `build_definitions(settings)`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dagster as dg

from hostaway_pipeline.defs._support.plan_fix import apply as apply_plan_fix
from hostaway_pipeline.settings import Settings

PACKAGE = Path(__file__).resolve().parent

# In every process that loads the code location (run workers included): a failed step must not
# leave its run spinning (defs/_support/plan_fix.py).
apply_plan_fix()

# Dagster 1.13.27 rebuilds every sensor when it resolves the repository
# (`SensorDefinition.with_updated_jobs` passes `owners=` even when None) and so warns that a
# parameter nobody set is in beta, on every command's stderr. Only that message is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `owners` of initializer `SensorDefinition",
    category=dg.BetaWarning,
)


def _unique(objects: Iterable[Any] | None) -> list[Any]:
    """Each definition once: a module that imports another's definition exposes it too."""
    return list({id(o): o for o in objects or ()}.values())


def load_defs_folder() -> dg.Definitions:
    """Every definition found in the modules under defs/ (and the `@dg.definitions` functions
    there, called now).

    What `dg.load_from_defs_folder` builds, from the defs module itself: that function first reads
    `[tool.dg]` from the pyproject.toml above the package, which a checkout has and an installed
    package (`pip install .`, the image) does not.

    The tree is built at the defs folder, not at its root: the root adds a JSON description of
    every component type installed (`plugin_component_types_json`, pydantic schemas of Dagster's
    own components, for `dg`'s component tooling; this project defines no component). Producing
    it was ~60 % of each load (~0.07 CPU-s of ~0.12 warm, more in a new process), and every
    process that loads the code location loads it: code servers, each run worker, each CLI
    command. The definitions are the same (defs/test_defs_folder.py).
    """
    from dagster.components.core.component_tree import ComponentTree

    import hostaway_pipeline.defs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # the module loaders are in preview
        tree = ComponentTree.from_module(
            defs_module=hostaway_pipeline.defs, project_root=PACKAGE.parent
        )
        return tree.build_defs(Path(hostaway_pipeline.defs.__file__).parent)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions wired to `settings` (the environment by default); tests pass their own."""
    from hostaway_pipeline.defs._support.code_refs import with_code_references
    from hostaway_pipeline.defs.accounts.schedules import build_schedules
    from hostaway_pipeline.defs.maintenance.cleanup import build_cleanup, retention_days
    from hostaway_pipeline.defs.resources import resources_from_settings

    settings = settings or Settings.from_env()
    folder = load_defs_folder()
    cleanup_job, cleanup_schedule = build_cleanup(retention_days())
    return dg.Definitions(
        assets=with_code_references(_unique(folder.assets)),
        asset_checks=_unique(folder.asset_checks),
        jobs=[*_unique(folder.jobs), cleanup_job],
        schedules=[*build_schedules(settings), *_unique(folder.schedules), cleanup_schedule],
        sensors=_unique(folder.sensors),
        resources=resources_from_settings(settings),
        # Every job runs its steps in the run worker's process unless it says otherwise, also
        # the UI's ad-hoc asset materializations (see defs/accounts/jobs.py for why).
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location Dagster loads (workspace.yaml, [tool.dg] in pyproject.toml)."""
    return build_definitions()
