"""How long a test waits for something that normally takes a second or two.

These bounds only elapse when something is broken: a test waits on a condition (a queue item, a
barrier, a process exit), never for a fixed time. They are sized for the slowest machine we run on:
2 CPUs shared with a second test suite, where spawning a Python process that imports the project
can take half a minute. `HOSTAWAY_TEST_WAIT_S` scales them for a slower one.
"""

from __future__ import annotations

import os

# A spawned process importing the project and doing a few requests or statements.
PROCESS_S = float(os.environ.get("HOSTAWAY_TEST_WAIT_S", "300"))

# A page of the Dagster webserver in headless Chromium (the browser checks of e2e/ and ui/).
PAGE_MS = 120_000
