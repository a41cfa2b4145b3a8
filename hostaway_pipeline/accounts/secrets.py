"""Sealing secrets at rest (Fernet), the key's origin, and the check that the key fits the data.

Client secrets and access tokens are stored only as Fernet ciphertexts. The key comes from
HOSTAWAY_SECRET_KEY or, for the embedded default, a generated file `<HOSTAWAY_HOME>/secret.key`.
During a key rotation HOSTAWAY_SECRET_KEY_PREVIOUS (comma-separated) still opens what older keys
sealed; `hostaway-pipeline keys rotate` re-seals everything under the current key.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hostaway_pipeline.warehouse.db import dialect_insert
from hostaway_pipeline.warehouse.files import PRIVATE_FILE, ensure_private_dir, loose
from hostaway_pipeline.warehouse.schema import meta

if TYPE_CHECKING:
    from hostaway_pipeline.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
GENERATE_HINT = (
    "generate one with: python -c "
    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)
WRONG_KEY_MESSAGE = (
    "the warehouse's secrets were sealed with another HOSTAWAY_SECRET_KEY; set the key they were "
    "sealed with, or re-enter each account's secret with `hostaway-pipeline accounts set-secret ID`"
)
CANARY_KEY = "secret_key_check"
_CANARY_TEXT = "hostaway-pipeline secret key check"


class SecretKeyError(RuntimeError):
    """The secret key is missing, malformed, or not the one the stored secrets were sealed with."""


def _fernet(key: str | bytes, variable: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise SecretKeyError(
            f"{variable} is not a valid Fernet key (32 url-safe base64-encoded bytes); "
            + GENERATE_HINT
        ) from None


class SecretBox:
    """Seals with one Fernet key; opens with it or any previous key (authenticated encryption)."""

    def __init__(self, key: str | bytes, previous: Sequence[str | bytes] = ()) -> None:
        fernets = [_fernet(key, "HOSTAWAY_SECRET_KEY")]
        fernets += [_fernet(old, "HOSTAWAY_SECRET_KEY_PREVIOUS") for old in previous]
        self._fernet = MultiFernet(fernets)

    def seal(self, plain: str) -> str:
        """Encrypt `plain`; every call gives a different ciphertext."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """Decrypt `sealed`; raise SecretKeyError if this key did not seal it (never garbage)."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError(WRONG_KEY_MESSAGE) from None

    def reseal(self, sealed: str) -> str:
        """`sealed` sealed again under the current key (SecretKeyError if no key opens it)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError(WRONG_KEY_MESSAGE) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def load_secret_box(
    settings: Settings, *, home: Path | None = None, engine: sa.Engine | None = None
) -> SecretBox:
    """The SecretBox for `settings`: HOSTAWAY_SECRET_KEY, else the generated key file in home.

    `home` overrides settings.home; with `engine`, the key is also checked against the warehouse
    (see check_key), so a wrong key fails here rather than at the first account.
    """
    previous = settings.previous_secret_keys
    if settings.secret_key:
        box = SecretBox(settings.secret_key, previous)
        if engine is not None:
            check_key(engine, box)
        return box
    path = (home or settings.home) / KEY_FILE_NAME
    box = SecretBox(_key_from_file(path), previous)
    if engine is not None:
        try:
            check_key(engine, box)
        except SecretKeyError as exc:
            raise SecretKeyError(
                f"{exc} (HOSTAWAY_SECRET_KEY is not set, so the key came from {path})"
            ) from None
    return box


def _key_from_file(path: Path) -> str:
    if not path.exists():
        _generate_key_file(path)
    if loose(path):
        # Whoever can read the key can open every stored secret: refuse, do not just warn.
        raise SecretKeyError(
            f"the key file {path} is open to other local users; restrict it with "
            f"`chmod 600 {path}` and start again"
        )
    key = path.read_text().strip()
    try:
        Fernet(key)
    except ValueError:
        raise SecretKeyError(
            f"{path} does not hold a valid Fernet key; restore the right file or set "
            f"HOSTAWAY_SECRET_KEY ({GENERATE_HINT})"
        ) from None
    return key


def _generate_key_file(path: Path) -> None:
    """Write a new key to `path` (0600, folder 0700) unless another process wins the race."""
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-", suffix=".tmp")  # mode 0600
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "w") as f:
            f.write(Fernet.generate_key().decode() + "\n")
        os.link(tmp, path)  # atomic, fails if a concurrent process already created the file
    except FileExistsError:
        return
    finally:
        os.unlink(tmp)
    log.warning(
        "HOSTAWAY_SECRET_KEY is not set: generated a new secret key in %s (mode 0600) and will "
        "reuse it. Back it up: without it the stored account secrets cannot be read. "
        "In production set HOSTAWAY_SECRET_KEY instead.",
        path,
    )


def check_key(engine: sa.Engine, box: SecretBox) -> None:
    """Verify `box` opens this warehouse's secrets; the first call stores an encrypted canary."""
    with engine.begin() as conn:
        canary = {"key": CANARY_KEY, "value": box.seal(_CANARY_TEXT)}
        conn.execute(dialect_insert(conn, meta).values(canary).on_conflict_do_nothing())
        sealed = conn.scalar(sa.select(meta.c.value).where(meta.c.key == CANARY_KEY))
    if sealed is None or box.open(sealed) != _CANARY_TEXT:
        raise SecretKeyError(WRONG_KEY_MESSAGE)
