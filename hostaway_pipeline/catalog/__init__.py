"""The entity catalog: every entity the warehouse mirrors, each declared once (`catalog/spec.py`).

Grouped by area: `core` (listings, reservations, conversations, messages), `listings` (per-listing
details), `reservations` (per-reservation money), `account` (account-wide finance and operations
lists), `reference` (global lists). Adding an entity is one spec in one of these tuples plus the
migration generated from it; `python -m hostaway_pipeline.catalog.new` writes both (docs/CATALOG.md).
"""

from __future__ import annotations

from hostaway_pipeline.catalog import account, listings, reference, reservations
from hostaway_pipeline.catalog.core import CONVERSATIONS, LISTINGS, MESSAGES, RESERVATIONS
from hostaway_pipeline.catalog.spec import (
    GLOBAL_ACCOUNT,
    SHARED_COLUMNS,
    Cadence,
    Field,
    Incremental,
    Kind,
    Pagination,
    Scope,
    Shape,
    StreamSpec,
    Window,
)

# Every entity with a warehouse table, in the order their tables are created.
CATALOG: tuple[StreamSpec, ...] = (
    LISTINGS,
    RESERVATIONS,
    CONVERSATIONS,
    MESSAGES,
    *listings.ENTITIES,
    *reservations.ENTITIES,
    *account.ENTITIES,
    *reference.ENTITIES,
)

# The streams with an asset of their own (each syncs its parent too when it has one).
STREAMS: tuple[StreamSpec, ...] = tuple(s for s in CATALOG if s.standalone)


def by_name(name: str) -> StreamSpec:
    """A catalog entry by its name; KeyError names the known ones."""
    for spec in CATALOG:
        if spec.name == name:
            return spec
    raise KeyError(f"no stream {name!r} in the catalog; known: {[s.name for s in CATALOG]}")


__all__ = [
    "CATALOG", "CONVERSATIONS", "GLOBAL_ACCOUNT", "LISTINGS", "MESSAGES", "RESERVATIONS",
    "SHARED_COLUMNS", "STREAMS", "Cadence", "Field", "Incremental", "Kind", "Pagination", "Scope",
    "Shape", "StreamSpec", "Window", "by_name",
]  # fmt: skip
