"""Key rotation: re-seal every stored secret and token under the current HOSTAWAY_SECRET_KEY.

Procedure (docs/SECURITY.md): set the new key as HOSTAWAY_SECRET_KEY and the old one as
HOSTAWAY_SECRET_KEY_PREVIOUS on every process, run `hostaway-pipeline keys rotate`, then drop
HOSTAWAY_SECRET_KEY_PREVIOUS. One transaction: a secret no key opens changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from hostaway_pipeline.accounts.secrets import CANARY_KEY, SecretBox, SecretKeyError
from hostaway_pipeline.warehouse.schema import access_tokens, accounts, meta


@dataclass(frozen=True)
class RotationReport:
    secrets: int  # account client secrets re-sealed
    tokens: int  # access tokens re-sealed
    tokens_dropped: int  # cached tokens no key could open (a cache: minted again when needed)


def rotate_keys(engine: sa.Engine, box: SecretBox) -> RotationReport:
    """Re-seal account secrets, tokens and the key canary with `box`'s current key."""
    with engine.begin() as conn:
        lock = conn.dialect.name == "postgresql"
        rows = conn.execute(
            _locked(sa.select(accounts.c.account_id, accounts.c.secret_encrypted), lock)
        ).all()
        for account_id, sealed in rows:
            try:
                fresh = box.reseal(sealed)
            except SecretKeyError:
                raise SecretKeyError(
                    f"account {account_id}: its secret opens with neither HOSTAWAY_SECRET_KEY nor "
                    "HOSTAWAY_SECRET_KEY_PREVIOUS; nothing was re-sealed. Add the key it was "
                    f"sealed with, or re-enter it with `hostaway-pipeline accounts set-secret "
                    f"{account_id}`"
                ) from None
            conn.execute(
                sa.update(accounts)
                .where(accounts.c.account_id == account_id)
                .values(secret_encrypted=fresh)
            )
        tokens = conn.execute(
            _locked(
                sa.select(
                    access_tokens.c.api_host,
                    access_tokens.c.account_id,
                    access_tokens.c.token_encrypted,
                ),
                lock,
            )
        ).all()
        resealed = dropped = 0
        for host, account_id, sealed in tokens:
            key = (access_tokens.c.api_host == host) & (access_tokens.c.account_id == account_id)
            try:
                fresh = box.reseal(sealed)
            except SecretKeyError:
                conn.execute(sa.delete(access_tokens).where(key))
                dropped += 1
                continue
            conn.execute(sa.update(access_tokens).where(key).values(token_encrypted=fresh))
            resealed += 1
        canary = conn.scalar(_locked(sa.select(meta.c.value).where(meta.c.key == CANARY_KEY), lock))
        if canary is not None:
            conn.execute(
                sa.update(meta).where(meta.c.key == CANARY_KEY).values(value=box.reseal(canary))
            )
    return RotationReport(secrets=len(rows), tokens=resealed, tokens_dropped=dropped)


def _locked(stmt: sa.Select, lock: bool) -> sa.Select:
    return stmt.with_for_update() if lock else stmt
