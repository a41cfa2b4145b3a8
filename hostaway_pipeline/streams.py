"""The entity catalog's historical import path: everything lives in `hostaway_pipeline.catalog`."""

from __future__ import annotations

from hostaway_pipeline.catalog import (
    CATALOG,
    CONVERSATIONS,
    GLOBAL_ACCOUNT,
    LISTINGS,
    MESSAGES,
    RESERVATIONS,
    SHARED_COLUMNS,
    STREAMS,
    Cadence,
    Field,
    Incremental,
    Kind,
    Pagination,
    Scope,
    Shape,
    StreamSpec,
    Window,
    by_name,
)

__all__ = [
    "CATALOG", "CONVERSATIONS", "GLOBAL_ACCOUNT", "LISTINGS", "MESSAGES", "RESERVATIONS",
    "SHARED_COLUMNS", "STREAMS", "Cadence", "Field", "Incremental", "Kind", "Pagination", "Scope",
    "Shape", "StreamSpec", "Window", "by_name",
]  # fmt: skip
