"""Local files: home 0700, SQLite warehouse and key 0600 from creation; loose modes caught."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.secrets import SecretKeyError, load_secret_box
from hostaway_pipeline.cli import main
from hostaway_pipeline.settings import Settings
from hostaway_pipeline.warehouse import db
from hostaway_pipeline.warehouse.files import check_home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The most permissive umask a shell could have: modes must not depend on it."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment with no database URL and no key: the embedded defaults under a new home."""
    home = tmp_path / "deep" / "home"
    for name in list(os.environ):
        if name.startswith("HOSTAWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOSTAWAY_HOME", str(home))
    return home


def test_first_use_creates_home_0700_and_warehouse_wal_and_key_0600(
    embedded_env: Path, loose_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTAWAY_CLIENT_SECRET_X", "s3cret")
    assert main(["accounts", "add", "42", "--client-secret-env", "HOSTAWAY_CLIENT_SECRET_X"]) == 0
    home = embedded_env
    assert mode(home) == 0o700
    assert mode(home.parent) == 0o700  # every folder it had to create
    files = sorted(p for p in home.iterdir() if p.is_file())
    names = {p.name for p in files}
    assert {"warehouse.sqlite", "secret.key"} <= names
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}  # -wal/-shm too


def test_the_sqlite_file_is_private_before_anything_is_written(
    tmp_path: Path, loose_umask: None
) -> None:
    path = tmp_path / "new" / "warehouse.sqlite"
    engine = db.create_engine(f"sqlite:///{path}")
    # Created by us and already private; it holds SQLite's header (WAL mode is set once, at
    # creation) and no table yet.
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM sqlite_master")) == 0
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x int)"))
    assert mode(path) == 0o600
    engine.dispose()


def test_a_key_file_other_users_can_read_is_refused_with_the_chmod_to_run(
    embedded_env: Path,
) -> None:
    settings = Settings.from_env()
    load_secret_box(settings)  # generates it, 0600
    key = embedded_env / "secret.key"
    for loose in (0o644, 0o640, 0o604):
        key.chmod(loose)
        with pytest.raises(SecretKeyError) as err:
            load_secret_box(settings)
        assert f"chmod 600 {key}" in str(err.value)
        assert key.read_text().strip() not in str(err.value)
    key.chmod(0o600)
    load_secret_box(settings)


def test_the_cli_refuses_to_start_with_a_loose_key_file(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "list"]) == 0
    (embedded_env / "secret.key").chmod(0o644)
    assert main(["accounts", "list"]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_a_loose_home_or_warehouse_is_warned_about(
    embedded_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["accounts", "list"]) == 0
    settings = Settings.from_env()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        check_home(settings)
    assert not caplog.records
    embedded_env.chmod(0o755)
    (embedded_env / "warehouse.sqlite").chmod(0o644)
    with caplog.at_level(logging.WARNING):
        check_home(settings)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert f"chmod 700 {embedded_env}" in messages
    assert f"chmod 600 {embedded_env / 'warehouse.sqlite'}" in messages
