"""Which tests pytest-xdist must run on one worker: every test under `e2e/` and `ui/`, as one unit.

The end-to-end tests share one session-scoped deployment (dagster-webserver, dagster-daemon, the
sandbox, `hostaway-pipeline ui`); on two workers each worker would start its own, and two
deployments on two CPUs starve each other. `xdist_group` marks cannot say so here: pytest-xdist
3.8 applies them by renaming `item._nodeid`, which pytest 9 no longer reads (a node's id is
`item._id`), so its `loadgroup` ran the e2e files on both workers. This scheduler groups by path
in the controller instead: any file added under e2e/ joins the group; other tests are spread one
by one (and `xdist_group` marks still count, should xdist's renaming work again).
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadGroupScheduling

# ui/ runs after e2e/ on the same worker (a worker runs its tests in collection order), so the e2e
# package's deployment (a schedule ticking every minute) has stopped before ui/ starts its own.
# multihost/ is a group of its own: its tests share one module-scoped cluster (Redis, a daemon,
# workers in network namespaces), which a second worker would start again beside the first.
GROUPS = {
    "hostaway_pipeline_tests/e2e/": "e2e",
    "hostaway_pipeline_tests/ui/": "e2e",
    "hostaway_pipeline_tests/multihost/": "multihost",
}


class PathGroupScheduling(LoadGroupScheduling):
    """`--dist loadgroup`, with the folders of GROUPS as groups. The largest group is sent first
    (xdist orders work units by size), so the e2e deployment starts while the other worker runs
    the rest."""

    def _split_scope(self, nodeid: str) -> str:
        for prefix, group in GROUPS.items():
            if nodeid.startswith(prefix):
                return group
        return str(super()._split_scope(nodeid))


def make_scheduler(config: Any, log: Any) -> PathGroupScheduling:
    return PathGroupScheduling(config, log)
