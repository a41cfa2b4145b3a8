"""Accounts come and go, so each account is a dynamic partition keyed by its Hostaway account id."""

from __future__ import annotations

import dagster as dg

ACCOUNTS_NAME = "hostaway_accounts"
ACCOUNTS = dg.DynamicPartitionsDefinition(name=ACCOUNTS_NAME)
