"""Run tags: which account a run syncs, how, and why it was started.

The instance's one-run-per-account queue limit keys on `dagster/partition` (the account), which
every run of the sync job carries however it was launched; these tags are for people and sensors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

ACCOUNT_TAG = "hostaway/account"
MODE_TAG = "hostaway/sync_mode"
TRIGGER_TAG = "hostaway/trigger"
# The `accounts resync` request a run serves, for people reading the run: the flag is cleared by
# the effect (a later full sync of everything the account syncs), never by this tag (sensors.py).
RESYNC_TAG = "hostaway/resync_requested_at"


def run_tags(
    account_key: str, mode: str, trigger: str, resync_requested_at: datetime | None = None
) -> dict[str, str]:
    tags = {ACCOUNT_TAG: account_key, MODE_TAG: mode, TRIGGER_TAG: trigger}
    if resync_requested_at is not None:
        tags[RESYNC_TAG] = resync_requested_at.isoformat()
    return tags


PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_account(tags: Mapping[str, str]) -> str | None:
    """The account (partition key) a run syncs: its partition, or a range of one partition."""
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    return start if start is not None and start == end else None
