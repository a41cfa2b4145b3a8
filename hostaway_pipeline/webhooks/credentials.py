"""Per-account webhook credentials, derived from one receiver secret (no Hostaway, no Dagster).

Hostaway shows a unified webhook's `login` and `password` in clear to the account's own API users,
so a credential shared by several accounts lets any of their users post events for all of them.
Each account's webhook therefore gets its own Basic-auth pair:

    login    = "hostaway-<account id>"
    password = base64url(HMAC-SHA256(HOSTAWAY_WEBHOOK_SECRET, "hostaway-webhook|<id>|<key id>"))

`key id` is a random value stored per account (`webhook_registrations.key_id`): it is not secret
(the receiver secret is), it only lets `webhooks register` re-key one account: a new key id makes
a new password and the old one stops working once Hostaway holds the new one. Nothing secret is
stored: the receiver recomputes the password from the secret and the stored key id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from hostaway_pipeline.accounts.ids import parse_account_id

LOGIN_PREFIX = "hostaway-"
MIN_SECRET_CHARS = 32


@dataclass(frozen=True)
class Credential:
    """One account's Basic-auth pair (the password kept out of repr)."""

    account_id: int
    login: str
    password: str = field(repr=False)


def new_key_id() -> str:
    """A fresh key id (random, 128 bits, hex)."""
    return secrets.token_hex(16)


def login_for(account_id: int) -> str:
    return f"{LOGIN_PREFIX}{account_id}"


def derive(secret: str, account_id: int, key_id: str) -> Credential:
    """The account's credential under `key_id`."""
    mac = hmac.new(
        secret.encode("utf-8"), f"hostaway-webhook|{account_id}|{key_id}".encode(), hashlib.sha256
    ).digest()
    password = base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
    return Credential(account_id, login_for(account_id), password)


def login_account(login: bytes) -> int | None:
    """The account id a login names (`hostaway-<canonical id>`), else None."""
    try:
        text = login.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text.startswith(LOGIN_PREFIX):
        return None
    try:
        return parse_account_id(text[len(LOGIN_PREFIX) :])
    except ValueError:
        return None


def matches(secret: str, account_id: int, key_ids: tuple[str | None, ...], password: bytes) -> bool:
    """Whether `password` is the account's password under one of `key_ids` (constant time per
    key; a missing key id is compared against a dummy so the time does not tell it is missing)."""
    ok = False
    for key_id in key_ids or (None,):
        expected = derive(secret, account_id, key_id or "no key").password.encode("ascii")
        ok |= hmac.compare_digest(password, expected) and key_id is not None
    return ok
