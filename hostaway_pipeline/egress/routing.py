"""Routing each account's run to an egress: the `dagster-celery/queue` tag.

Only when workers of at least one egress report in (`hostaway-pipeline worker`, table
`egress_addresses`): the single-machine default has none and its runs carry no such tag.
The per-egress run cap of deploy/celery/dagster.yaml keys on the same tag.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountInfo
from hostaway_pipeline.egress.placement import place, queue_of
from hostaway_pipeline.egress.store import live_egresses, load_costs

QUEUE_TAG = "dagster-celery/queue"


def egress_tags(engine: sa.Engine, infos: Sequence[AccountInfo]) -> dict[int, dict[str, str]]:
    """Account -> the tag routing its runs to its egress's workers ({} without workers)."""
    egresses = live_egresses(engine)
    if not egresses:
        return {}
    pinned = {i.account_id: i.egress for i in infos if i.egress}
    placement = place([i.account_id for i in infos], egresses, load_costs(engine), pinned)
    return {a: {QUEUE_TAG: queue_of(e)} for a, e in placement.egress_of.items()}
