"""Bad configuration and command-line input: one clear line, a non-zero exit, nothing written.

Complements hostaway_pipeline_tests/test_cli.py (malformed ids, empty secrets, an unset secret
variable, an unsupported database backend), which these cases do not repeat.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hostaway_pipeline.cli import main
from hostaway_pipeline_tests.faults.pgproxy import PgProxy

HUGE_ID = "99999999999999999999"  # past PostgreSQL's bigint


@pytest.fixture
def env(
    fresh_pg_url: str, secret_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {
        "HOSTAWAY_DATABASE_URL": fresh_pg_url,
        "HOSTAWAY_SECRET_KEY": secret_key,
        "HOSTAWAY_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "HOSTAWAY_API_URL": "http://127.0.0.1:9/v1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(argv: list[str], stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        return main(argv)
    except SystemExit as exc:  # argparse rejects malformed arguments itself
        return int(exc.code or 0)


def warehouse_rows(url: str) -> dict[str, int]:
    """Row counts of the tables a command could write ({} when the schema does not exist)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = conn.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'hostaway'")
        ).all()
        counts = {
            t: conn.scalar(sa.text(f'SELECT count(*) FROM hostaway."{t}"'))
            for t in tables
            if t not in ("alembic_version", "meta")  # schema and key canary: set-up, not data
        }
    engine.dispose()
    return {t: n for t, n in counts.items() if n}


def one_line_error(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (["accounts", "set-secret", "999"], "s3cret\n", "accounts add 999"),
        (["accounts", "remove", "999"], "", "accounts add 999"),
        (["accounts", "add", "0"], "s3cret\n", "not a Hostaway account id"),
        # Past PostgreSQL's bigint: refused where it enters, like any non-canonical id.
        (["accounts", "add", HUGE_ID], "s3cret\n", "not a Hostaway account id"),
        (["accounts", "enable", HUGE_ID], "", "not a Hostaway account id"),
        (["accounts", "set-secret", HUGE_ID], "s3cret\n", "not a Hostaway account id"),
        (["accounts", "remove", HUGE_ID], "", "not a Hostaway account id"),
        (["accounts", "add", "0012"], "s3cret\n", "not a Hostaway account id"),
        (["sync", "--account", "+12"], "", "not a Hostaway account id"),
        (["accounts", "add", "55"], "   \t \n", "secret is empty"),
        (["sync", "--account", "999"], "", "accounts add 999"),
        (["sync", "--all"], "", "no active accounts"),
    ],
)
def test_bad_account_input_exits_non_zero_with_one_line_and_writes_nothing(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], stdin: str, expected: str,
) -> None:  # fmt: skip
    assert run(argv, stdin, monkeypatch) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    if expected != "not a Hostaway account id":  # argparse's own usage message is two lines
        one_line_error(err)
    assert warehouse_rows(env["HOSTAWAY_DATABASE_URL"]) == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOSTAWAY_API_URL", "not a url"),
        ("HOSTAWAY_API_URL", "ftp://api.hostaway.com/v1"),
        ("HOSTAWAY_API_URL", "http://"),
        ("HOSTAWAY_API_URL", "http://api.hostaway.com/v1"),  # tokens in clear: https only
        ("HOSTAWAY_DATABASE_URL", "::not a url::"),
        ("HOSTAWAY_DATABASE_URL", "postgresql+nodriver://root@127.0.0.1/x"),
        ("HOSTAWAY_RATE_LIMIT_PER_IP", "0"),
        ("HOSTAWAY_RATE_LIMIT_PER_ACCOUNT", "twenty"),
        ("HOSTAWAY_RATE_LIMIT_WINDOW_S", "-10"),
        ("HOSTAWAY_SECRET_KEY", "not-a-fernet-key"),
    ],
)
def test_a_bad_setting_names_its_variable_and_writes_nothing(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    name: str, value: str,
) -> None:  # fmt: skip
    monkeypatch.setenv(name, value)
    assert run(["accounts", "add", "55"], "s3cret\n", monkeypatch) == 2
    line = one_line_error(capsys.readouterr().err)
    assert name in line, line
    assert warehouse_rows(env["HOSTAWAY_DATABASE_URL"]) == {}


def test_an_unreachable_or_missing_database_is_one_clear_line(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy = PgProxy(env["HOSTAWAY_DATABASE_URL"])  # a port nothing listens on
    down = sa.make_url(proxy.url).set(password="hunter2-db-password")
    missing = sa.make_url(env["HOSTAWAY_DATABASE_URL"]).set(database="hostaway_no_such_db")
    for url in (down, missing):
        monkeypatch.setenv("HOSTAWAY_DATABASE_URL", url.render_as_string(hide_password=False))
        assert run(["accounts", "list"]) == 2
        line = one_line_error(capsys.readouterr().err)
        assert "HOSTAWAY_DATABASE_URL" in line and "cannot reach the warehouse" in line
        assert "hunter2-db-password" not in line
    assert warehouse_rows(env["HOSTAWAY_DATABASE_URL"]) == {}


def test_a_wrong_secret_key_for_an_existing_warehouse_changes_nothing(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["accounts", "add", "55"], "s3cret\n", monkeypatch) == 0
    before = warehouse_rows(env["HOSTAWAY_DATABASE_URL"])
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", Fernet.generate_key().decode())
    for argv, stdin in ((["accounts", "add", "56"], "other\n"), (["accounts", "list"], ""),
                        (["accounts", "set-secret", "55"], "new\n")):  # fmt: skip
        assert run(argv, stdin, monkeypatch) == 2
        line = one_line_error(capsys.readouterr().err)
        assert "another HOSTAWAY_SECRET_KEY" in line and "accounts set-secret" in line
    assert warehouse_rows(env["HOSTAWAY_DATABASE_URL"]) == before


def test_a_missing_secret_key_for_an_existing_warehouse_names_the_generated_file(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["accounts", "add", "55"], "s3cret\n", monkeypatch) == 0
    before = warehouse_rows(env["HOSTAWAY_DATABASE_URL"])
    monkeypatch.delenv("HOSTAWAY_SECRET_KEY")
    assert run(["accounts", "list"]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "another HOSTAWAY_SECRET_KEY" in line and "secret.key" in line
    assert warehouse_rows(env["HOSTAWAY_DATABASE_URL"]) == before
