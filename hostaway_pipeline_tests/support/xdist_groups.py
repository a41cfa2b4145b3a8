"""Which tests pytest-xdist must run on one worker: the tests of one deployment, as one unit.

The end-to-end tests share one package- or module-scoped deployment (dagster-webserver,
dagster-daemon, the sandbox); spread over workers, each worker would start its own. `xdist_group` marks cannot say so here: pytest-xdist
3.8 applies them by renaming `item._nodeid`, which pytest 9 no longer reads (a node's id is
`item._id`), so its `loadgroup` ran the e2e files on both workers. This scheduler groups by path
in the controller instead: any file added under e2e/ joins the group; other tests are spread one
by one (and `xdist_group` marks still count, should xdist's renaming work again).
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadGroupScheduling

# Each deployment is a group of its own, on its own worker: the e2e package's (webserver, daemon,
# a schedule firing every minute), the browser suite's (test_ui_actions.py), the multi-host
# cluster's (Redis, a daemon, workers in network namespaces). Their tests share one module- or
# package-scoped deployment, which a second worker would start again beside the first. They spend
# most of their time waiting on the daemon's loops (sensor and backfill intervals of 30 s, a run
# worker starting), not on the CPU, so `./dev test` runs more workers than the machine has CPUs
# (see `dev`): the other workers' tests use the CPU while these wait.
GROUPS = {
    "hostaway_pipeline_tests/e2e/": "e2e",
    "hostaway_pipeline_tests/ui/test_ui_actions.py": "ui_actions",
    "hostaway_pipeline_tests/multihost/": "multihost",
}


class PathGroupScheduling(LoadGroupScheduling):
    """`--dist loadgroup`, with the paths of GROUPS as groups. The largest group is sent first
    (xdist orders work units by size), so the deployments start while the other workers run the
    rest."""

    def _split_scope(self, nodeid: str) -> str:
        for prefix, group in GROUPS.items():
            if nodeid.startswith(prefix):
                return group
        return str(super()._split_scope(nodeid))


def make_scheduler(config: Any, log: Any) -> PathGroupScheduling:
    return PathGroupScheduling(config, log)
