"""Secrets at rest: Fernet sealing, where the key comes from, and the wrong-key check."""

from __future__ import annotations

import logging
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.secrets import (
    WRONG_KEY_MESSAGE,
    SecretBox,
    SecretKeyError,
    check_key,
    load_secret_box,
)
from hostaway_pipeline.settings import Settings


def settings(home: Path, key: str | None = None) -> Settings:
    env = {"HOSTAWAY_HOME": str(home)}
    if key:
        env["HOSTAWAY_SECRET_KEY"] = key
    return Settings.from_env(env)


def test_seal_and_open_round_trip_with_randomised_ciphertexts(box: SecretBox) -> None:
    first, second = box.seal("s3cret-välue"), box.seal("s3cret-välue")
    assert first != second
    assert "s3cret" not in first
    assert box.open(first) == box.open(second) == "s3cret-välue"


def test_opening_with_another_key_raises_instead_of_returning_garbage(box: SecretBox) -> None:
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(SecretKeyError, match="HOSTAWAY_SECRET_KEY"):
        other.open(box.seal("secret"))
    with pytest.raises(SecretKeyError):
        box.open("not a fernet token")


def test_a_malformed_key_names_the_variable_and_how_to_generate_one(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError) as err:
        load_secret_box(settings(tmp_path, key="too-short"))
    message = str(err.value)
    assert "HOSTAWAY_SECRET_KEY" in message
    assert "Fernet.generate_key()" in message
    assert "too-short" not in message


def test_without_a_key_one_is_generated_0600_warned_about_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    with caplog.at_level(logging.WARNING):
        box = load_secret_box(settings(home))
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert any(str(key_file) in r.getMessage() for r in caplog.records)
    assert list(home.iterdir()) == [key_file]  # no temporary file left behind

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = load_secret_box(settings(home))
    assert again.open(box.seal("x")) == "x"
    assert not caplog.records


def test_the_home_argument_overrides_settings_home(tmp_path: Path) -> None:
    load_secret_box(settings(tmp_path / "a"), home=tmp_path / "b")
    assert (tmp_path / "b" / "secret.key").exists()
    assert not (tmp_path / "a").exists()


def test_a_corrupt_key_file_is_reported_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("garbage\n")
    with pytest.raises(SecretKeyError, match=r"secret\.key"):
        load_secret_box(settings(tmp_path))


def test_key_check_stores_a_canary_then_rejects_another_key(
    engine: sa.Engine, box: SecretBox
) -> None:
    check_key(engine, box)
    check_key(engine, box)  # same key: fine
    with pytest.raises(SecretKeyError) as err:
        check_key(engine, SecretBox(Fernet.generate_key()))
    assert str(err.value) == WRONG_KEY_MESSAGE
    assert "accounts set-secret" in str(err.value)


def test_load_secret_box_with_an_engine_checks_the_key(
    engine: sa.Engine, tmp_path: Path, secret_key: str
) -> None:
    load_secret_box(settings(tmp_path, key=secret_key), engine=engine)
    wrong = replace(settings(tmp_path), secret_key=Fernet.generate_key().decode())
    with pytest.raises(SecretKeyError, match="sealed with another HOSTAWAY_SECRET_KEY"):
        load_secret_box(wrong, engine=engine)


def test_a_key_file_that_does_not_fit_the_warehouse_is_named(
    engine: sa.Engine, tmp_path: Path, box: SecretBox
) -> None:
    check_key(engine, box)
    with pytest.raises(SecretKeyError, match=r"came from .*secret\.key"):
        load_secret_box(settings(tmp_path), engine=engine)
