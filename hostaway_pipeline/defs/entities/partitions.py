"""Accounts come and go, so each account is a dynamic partition keyed by its Hostaway account id."""

from __future__ import annotations

import dagster as dg

from hostaway_pipeline.accounts.ids import AccountIdError, parse_account_id

ACCOUNTS_NAME = "hostaway_accounts"
ACCOUNTS = dg.DynamicPartitionsDefinition(name=ACCOUNTS_NAME)


def partition_account(key: str) -> int:
    """The account of a partition key; a non-canonical key ("0012", "+12") fails the step.

    Each spelling would be its own partition, so two syncs of one account could run at once.
    """
    try:
        return parse_account_id(key)
    except AccountIdError as exc:
        raise dg.Failure(description=f"partition {exc}", allow_retries=False) from None
