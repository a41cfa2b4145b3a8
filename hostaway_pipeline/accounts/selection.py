"""The entities one account syncs: its own selection, else HOSTAWAY_ENTITIES, with dependencies.

Every path asks this one function (sync steps, webhook events, the request budget), so a
selection means the same thing everywhere. Names and dependency rules: `catalog/selection.py`.
"""

from __future__ import annotations

from hostaway_pipeline.accounts.repo import AccountInfo
from hostaway_pipeline.catalog.selection import resolve
from hostaway_pipeline.settings import Settings


def selected_entities(settings: Settings, account: AccountInfo | None) -> set[str]:
    """Table names the account syncs (entities and marts), dependencies included.

    `account` None: the deployment's default (HOSTAWAY_ENTITIES, else everything).
    """
    return set(entity_selection(settings.entities, account))


def entity_selection(default: frozenset[str] | None, account: AccountInfo | None) -> frozenset[str]:
    """`selected_entities` for callers holding the default selection rather than Settings."""
    return resolve(default, account.entity_override if account is not None else None)
