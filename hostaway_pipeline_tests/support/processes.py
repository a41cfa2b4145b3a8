"""Separate processes for the tests whose subject needs them (a lock, a budget or a migration
shared across processes).

The processes are forked from one forkserver per test worker that imported their modules once:
started with `spawn`, each process imported the project and the test package again (~1 CPU-s
each, ~50 processes in the suite). Like `spawn`, a forkserver's child inherits nothing of the
pytest worker (its threads, connections, engines): the server is a fresh single-threaded process.
What a child needs it gets as arguments, not from the environment (the server's environment is
the one it started with).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

# The modules the children run (their targets), imported by the server once.
PRELOAD = ["hostaway_pipeline_tests.client.workers", "hostaway_pipeline_tests.warehouse.workers"]


def context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx
