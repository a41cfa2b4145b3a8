"""The sandbox's built-in catalog: every endpoint it serves beyond the original four."""

from __future__ import annotations

from . import catalog_account, catalog_listing, catalog_reference, catalog_reservation
from .catalog import Endpoint


def default_endpoints() -> list[Endpoint]:
    """Every built-in catalog endpoint (a fresh list: callers may extend it)."""
    return [
        *catalog_reference.endpoints(),
        *catalog_listing.endpoints(),
        *catalog_reservation.endpoints(),
        *catalog_account.endpoints(),
    ]
