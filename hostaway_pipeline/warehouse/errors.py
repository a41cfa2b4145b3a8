"""Typed warehouse errors: a database that cannot be reached, or that refuses a write.

Messages never carry statement parameters or the driver's DETAIL/CONTEXT lines (those can quote
guest data), nor a URL's password.
"""

from __future__ import annotations

import sqlalchemy as sa


class WarehouseError(RuntimeError):
    """The warehouse could not do what was asked; the message says why and what to do next.

    `retryable`: running the same work again later may succeed. `account_id`, `stream` and
    `request_id` (of the API page being written) are set when a sync was running.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        account_id: int | None = None,
        stream: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.account_id, self.stream, self.request_id = account_id, stream, request_id


class WarehouseUnavailableError(WarehouseError):
    """The database could not be reached or the connection broke: try again later."""

    retryable = True


class WarehouseBusyError(WarehouseUnavailableError):
    """The embedded SQLite warehouse stayed locked by another process past the busy timeout."""


def sqlite_busy(exc: BaseException) -> bool:
    """True when `exc` is SQLite's "database is locked"/"busy": a lock, not a lost connection."""
    orig = getattr(exc, "orig", None) or exc
    if type(orig).__module__.split(".")[0] != "sqlite3":
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def busy_message(url: sa.URL | str, where: str = "") -> str:
    """What to tell the user when the embedded warehouse is locked (no server to look for)."""
    prefix = f"{where}: " if where else ""
    return (
        f"{prefix}the embedded warehouse is busy (another process holds it: "
        f"{safe_url(url)}); nothing was written: wait for the other sync or UI process to finish, "
        "then retry"
    )


def safe_url(url: sa.URL | str) -> str:
    """The URL without its password."""
    return sa.make_url(url).render_as_string(hide_password=True)


def connection_lost(exc: BaseException) -> bool:
    """True when `exc` means the connection failed rather than the database refusing a statement."""
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa.exc.OperationalError | sa.exc.InterfaceError
        )
    return False


def reason(exc: BaseException) -> str:
    """`DriverError: first line of its message` for a connection failure (no data in those)."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first}"[:300]


def refused(exc: BaseException) -> str:
    """The driver's error class and SQLSTATE of a refused statement (never its message)."""
    orig = getattr(exc, "orig", None) or exc
    sqlstate = getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "diag", None), "sqlstate", None
    )
    return type(orig).__name__ + (f", SQLSTATE {sqlstate}" if sqlstate else "")
