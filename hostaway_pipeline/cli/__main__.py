"""`python -m hostaway_pipeline.cli ...`, the same as the `hostaway-pipeline` console script."""

from __future__ import annotations

import sys

from hostaway_pipeline.cli.app import main

sys.exit(main())
