"""The `hostaway-pipeline` command: `app` (the parser and the command registry), `context`
(opening the warehouse, the account repository, the errors a user can act on) and one module per
command group."""

from __future__ import annotations

from hostaway_pipeline.cli.app import main

__all__ = ["main"]
