"""The one spelling of a Hostaway account id wherever it enters: CLI, partition key, run config.

`int()` accepts "0012", "+12", "1_2", " 12" and Arabic-Indic digits, and each of those would be
its own Dagster partition for one account (two syncs of it could then run at once). Only the
canonical form is accepted: ASCII digits, no sign, no leading zero, no separator or space.
"""

from __future__ import annotations

import re

_CANONICAL = re.compile(r"[1-9][0-9]{0,18}")
MAX_ACCOUNT_ID = 2**63 - 1  # the warehouse stores ids as BIGINT
ACCEPTED = "a positive integer written with ASCII digits only, e.g. 12345 (no sign, leading zero, separator or space)"


class AccountIdError(ValueError):
    """A value that is not a canonical account id; the message names it and what is accepted."""


def parse_account_id(value: object) -> int:
    """The account id `value` spells canonically, else AccountIdError.

    Strings must be canonical; ints (from the database) must be positive. Anything else is refused.
    """
    if isinstance(value, bool):
        raise AccountIdError(f"{value!r} is not a Hostaway account id: expected {ACCEPTED}")
    if isinstance(value, int):
        if 0 < value <= MAX_ACCOUNT_ID:
            return value
    elif isinstance(value, str) and _CANONICAL.fullmatch(value) and int(value) <= MAX_ACCOUNT_ID:
        return int(value)
    raise AccountIdError(f"{value!r} is not a Hostaway account id: expected {ACCEPTED}")


def account_key(account_id: int) -> str:
    """The partition key (and tag value) of an account: its canonical decimal form."""
    return str(parse_account_id(account_id))
