"""The durable access-token cache (client.ports.TokenStore): sealed at rest, shared by processes."""

from __future__ import annotations

import hashlib
import logging
from contextlib import AbstractContextManager

import sqlalchemy as sa

from hostaway_pipeline.accounts.secrets import SecretBox, SecretKeyError
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.locks import process_lock
from hostaway_pipeline.warehouse.schema import access_tokens

log = logging.getLogger(__name__)
_KEY = ("api_host", "account_id")


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: lets compare-and-swap match a token without storing it in clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SqlTokenStore:
    """TokenStore on the warehouse: one sealed token per (API host, account), plus a mint lock."""

    def __init__(self, engine: sa.Engine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box

    def load_token(self, api_host: str, account_id: int) -> StoredToken | None:
        """The account's token for `api_host`, or None (also when the key cannot open it)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    access_tokens.c.token_encrypted,
                    access_tokens.c.issued_at,
                    access_tokens.c.expires_at,
                )
                .where(access_tokens.c.api_host == api_host)
                .where(access_tokens.c.account_id == account_id)
            ).first()
        if row is None:
            return None
        try:
            token = self._box.open(row.token_encrypted)
        except SecretKeyError:
            # A cache miss is harmless: the client mints a new token and overwrites this one.
            log.warning(
                "account %s: the cached access token cannot be opened; ignoring it", account_id
            )
            return None
        return StoredToken(token=token, issued_at=row.issued_at, expires_at=row.expires_at)

    def save_token(self, api_host: str, account_id: int, token: StoredToken) -> None:
        """Store (replace) the account's token for `api_host`."""
        values = {
            "api_host": api_host,
            "account_id": account_id,
            "token_encrypted": self._box.seal(token.token),
            "token_hash": token_hash(token.token),
            "issued_at": token.issued_at,
            "expires_at": token.expires_at,
        }
        with self._engine.begin() as conn:
            stmt = dialect_insert(conn, access_tokens).values(values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[access_tokens.c.api_host, access_tokens.c.account_id],
                    set_={k: stmt.excluded[k] for k in values if k not in _KEY},
                )
            )

    def invalidate_token(self, api_host: str, account_id: int, token: str) -> bool:
        """Delete the account's token only if it is still `token`; True if it was deleted."""
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.delete(access_tokens)
                .where(access_tokens.c.api_host == api_host)
                .where(access_tokens.c.account_id == account_id)
                .where(access_tokens.c.token_hash == token_hash(token))
            )
        return result.rowcount > 0

    def issue_lock(self, api_host: str, account_id: int) -> AbstractContextManager[None]:
        """Held while one process mints the account's token: PG advisory lock, or SQLite flock."""
        host = hashlib.sha256(api_host.encode("utf-8")).hexdigest()[:16]  # a file-name-safe id
        return process_lock(self._engine, f"hostaway_pipeline.token.{host}.{account_id}")
