"""Run tags: the account tag also drives the instance's one-run-per-account queue limit."""

from __future__ import annotations

ACCOUNT_TAG = "hostaway/account"
MODE_TAG = "hostaway/sync_mode"
TRIGGER_TAG = "hostaway/trigger"


def run_tags(account_key: str, mode: str, trigger: str) -> dict[str, str]:
    return {ACCOUNT_TAG: account_key, MODE_TAG: mode, TRIGGER_TAG: trigger}
