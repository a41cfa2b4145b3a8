"""Registered Hostaway accounts: sealed client secrets, on/off switch, resync and error flags."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.accounts.secrets import SecretBox, SecretKeyError
from hostaway_pipeline.catalog.marts import MARTS
from hostaway_pipeline.catalog.selection import SelectionError, check_names, stored_text
from hostaway_pipeline.warehouse.schema import (
    ENTITY_TABLES,
    access_tokens,
    accounts,
    child_marks,
    child_verifications,
    entity_availability,
    sync_state,
    webhook_events,
    webhook_registrations,
)
from hostaway_pipeline.warehouse.schema import table as table_named

MAX_ERROR_CHARS = 2000


class AccountError(Exception):
    """An account operation cannot be done; the message names the account and the fix."""


@dataclass(frozen=True)
class AccountInfo:
    """What the warehouse knows about an account, without its secret."""

    account_id: int
    active: bool
    created_at: datetime
    updated_at: datetime
    secret_updated_at: datetime
    resync_requested_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    credentials_rejected: bool
    # The account's own selection (comma-separated table names); None: HOSTAWAY_ENTITIES.
    entities: str | None = None
    # The egress its runs are pinned to (`accounts egress ID EGRESS`); None: placed by cost.
    egress: str | None = None

    @property
    def entity_override(self) -> frozenset[str] | None:
        """The account's own selection as names (None: it follows HOSTAWAY_ENTITIES)."""
        return None if self.entities is None else frozenset(self.entities.split(","))


_INFO_COLUMNS = [accounts.c[name] for name in AccountInfo.__dataclass_fields__]


def _now() -> datetime:
    return datetime.now(UTC)


def _not_registered(account_id: int) -> AccountError:
    return AccountError(
        f"account {account_id} is not registered; "
        f"add it with `hostaway-pipeline accounts add {account_id}`"
    )


def _stored_id(account_id: int) -> int:
    """`account_id` if it could be registered at all (a bigint), else AccountError."""
    if not -(2**63) <= account_id < 2**63:
        raise _not_registered(account_id)
    return account_id


def _check_id(account_id: object) -> int:
    if isinstance(account_id, bool) or not isinstance(account_id, int) or account_id <= 0:
        raise AccountError(f"account id {account_id!r} is not a positive integer")
    if account_id >= 2**63:  # the column is a bigint; Hostaway's ids are far smaller
        raise AccountError(f"account id {account_id} is too large to be a Hostaway account id")
    return account_id


class AccountRepo:
    """Accounts in the warehouse; every method is its own transaction."""

    def __init__(self, engine: sa.Engine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def add(self, account_id: int, secret: str) -> AccountInfo:
        """Register an active account with its client secret (sealed)."""
        account_id = _check_id(account_id)
        sealed = self._box.seal(self._check_secret(account_id, secret, "add"))
        now = _now()
        values = {
            "account_id": account_id,
            "secret_encrypted": sealed,
            "active": True,
            "created_at": now,
            "updated_at": now,
            "secret_updated_at": now,
            "credentials_rejected": False,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(accounts).values(values))
        except sa.exc.IntegrityError:
            raise AccountError(
                f"account {account_id} is already registered; change its secret with "
                f"`hostaway-pipeline accounts set-secret {account_id}`"
            ) from None
        return self.get(account_id)

    def set_secret(self, account_id: int, secret: str) -> None:
        """Replace the client secret; clears the rejection flag and drops the cached token."""
        sealed = self._box.seal(self._check_secret(account_id, secret, "set-secret"))
        now = _now()
        with self._engine.begin() as conn:
            self._update(
                conn,
                account_id,
                secret_encrypted=sealed,
                secret_updated_at=now,
                credentials_rejected=False,
                last_error=None,
                last_error_at=None,
            )
            # The token was minted with the old secret, which Hostaway may have revoked.
            conn.execute(sa.delete(access_tokens).where(access_tokens.c.account_id == account_id))

    def enable(self, account_id: int) -> None:
        """Include the account in syncs again."""
        with self._engine.begin() as conn:
            self._update(conn, account_id, active=True)

    def disable(self, account_id: int) -> None:
        """Leave the account out of syncs; its data and secret are kept."""
        with self._engine.begin() as conn:
            self._update(conn, account_id, active=False)

    def remove(self, account_id: int, purge_data: bool = False) -> int:
        """Forget the account, its token, sync state and webhook inbox/registration; with
        `purge_data` also its rows.

        Returns the number of data rows deleted (0 unless purging). Without purging, the rows
        stay, and re-adding the account later starts with a full sync that reconciles them.
        """
        purged = 0
        account_id = _stored_id(account_id)
        with self._engine.begin() as conn:
            if (
                conn.execute(
                    sa.delete(accounts).where(accounts.c.account_id == account_id)
                ).rowcount
                == 0
            ):
                raise _not_registered(account_id)
            for table in (
                access_tokens, sync_state, child_verifications, child_marks, webhook_events,
                webhook_registrations, entity_availability,
            ):  # fmt: skip
                conn.execute(sa.delete(table).where(table.c.account_id == account_id))
            if purge_data:
                marts = tuple(table_named(m.name) for m in MARTS)
                for table in (*ENTITY_TABLES.values(), *marts):
                    result = conn.execute(sa.delete(table).where(table.c.account_id == account_id))
                    purged += result.rowcount
        return purged

    def list_accounts(self) -> list[AccountInfo]:
        """Every registered account, by id."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(*_INFO_COLUMNS).order_by(accounts.c.account_id))
            return [AccountInfo(**row._mapping) for row in rows]

    def get(self, account_id: int) -> AccountInfo:
        """One account; AccountError if it is not registered."""
        account_id = _stored_id(account_id)
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(*_INFO_COLUMNS).where(accounts.c.account_id == account_id)
            ).first()
        if row is None:
            raise _not_registered(account_id)
        return AccountInfo(**row._mapping)

    def client_secret(self, account_id: int) -> str:
        """The decrypted client secret (SecretKeyError if the key does not fit)."""
        account_id = _stored_id(account_id)
        with self._engine.connect() as conn:
            sealed = conn.scalar(
                sa.select(accounts.c.secret_encrypted).where(accounts.c.account_id == account_id)
            )
        if sealed is None:
            raise _not_registered(account_id)
        return self._box.open(sealed)

    def set_entities(self, account_id: int, names: list[str] | None) -> frozenset[str] | None:
        """Sync only `names` for this account (None: whatever HOSTAWAY_ENTITIES says)."""
        chosen = None
        if names is not None:
            try:
                chosen = check_names(names, f"account {account_id}")
            except SelectionError as exc:
                raise AccountError(str(exc)) from None
        with self._engine.begin() as conn:
            self._update(conn, account_id, entities=stored_text(chosen))
        return chosen

    def set_egress(self, account_id: int, egress: str | None) -> None:
        """Pin the account's runs to an egress (None: placed by projected cost)."""
        with self._engine.begin() as conn:
            self._update(conn, account_id, egress=egress)

    def request_resync(self, account_id: int) -> None:
        """Ask for a full re-sync of the account at its next run."""
        with self._engine.begin() as conn:
            self._update(conn, account_id, resync_requested_at=_now())

    def clear_resync(self, account_id: int, before: datetime) -> bool:
        """Clear a resync request made at or before `before` (a later request is kept)."""
        account_id = _stored_id(account_id)
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(accounts)
                .where(accounts.c.account_id == account_id)
                .where(accounts.c.resync_requested_at <= before)
                .values(resync_requested_at=None, updated_at=_now())
            )
        return result.rowcount > 0

    def record_error(
        self, account_id: int, message: str, credentials_rejected: bool = False
    ) -> None:
        """Remember the last failure (the account's secret is masked if it appears in `message`)."""
        # A wrong key is reported by the key check; the error itself must still be recorded.
        with contextlib.suppress(SecretKeyError):
            message = message.replace(self.client_secret(account_id), "***")
        values: dict[str, Any] = {"last_error": message[:MAX_ERROR_CHARS], "last_error_at": _now()}
        if credentials_rejected:
            values["credentials_rejected"] = True
        with self._engine.begin() as conn:
            self._update(conn, account_id, **values)

    def clear_error(self, account_id: int) -> None:
        """Forget the last failure after a successful run (the credentials evidently work)."""
        with self._engine.begin() as conn:
            self._update(
                conn, account_id, last_error=None, last_error_at=None, credentials_rejected=False
            )

    def _update(self, conn: sa.Connection, account_id: int, **values: Any) -> None:
        account_id = _stored_id(account_id)
        result = conn.execute(
            sa.update(accounts)
            .where(accounts.c.account_id == account_id)
            .values(updated_at=_now(), **values)
        )
        if result.rowcount == 0:
            raise _not_registered(account_id)

    @staticmethod
    def _check_secret(account_id: int, secret: str, command: str) -> str:
        if not isinstance(secret, str) or not secret.strip():
            raise AccountError(
                f"account {account_id}: the client secret is empty; copy it from Hostaway "
                f"(Settings > Hostaway API) and run `hostaway-pipeline accounts {command} "
                f"{account_id}` again"
            )
        return secret.strip()
