"""The hostaway-pipeline command: accounts, sync and bad input, against the real PostgreSQL."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from hostaway_pipeline.cli import main
from hostaway_pipeline_tests.support.sandboxes import client_env
from hostaway_sandbox import SandboxServer


@pytest.fixture
def env(
    fresh_pg_url: str, secret_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {
        "HOSTAWAY_DATABASE_URL": fresh_pg_url,
        "HOSTAWAY_SECRET_KEY": secret_key,
        "HOSTAWAY_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def all_text(url: str) -> str:
    """Every text value of every table of the warehouse, for leak checks."""
    engine = sa.create_engine(url)
    chunks = []
    with engine.connect() as conn:
        for (name,) in conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname='hostaway'")
        ):
            for row in conn.execute(sa.text(f'SELECT * FROM hostaway."{name}"')):
                chunks.append(" ".join(map(str, row)))
    engine.dispose()
    return "\n".join(chunks)


def test_add_reads_the_secret_from_an_env_var_and_list_never_shows_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MY_SECRET", "s3cr3t-value-abc")
    assert main(["accounts", "add", "12345", "--client-secret-env", "MY_SECRET"]) == 0
    assert main(["accounts", "list"]) == 0
    out = capsys.readouterr().out
    assert "12345" in out and "s3cr3t-value-abc" not in out
    assert "s3cr3t-value-abc" not in all_text(env["HOSTAWAY_DATABASE_URL"])


def test_add_reads_the_secret_from_stdin(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from-stdin-secret\n"))
    assert main(["accounts", "add", "777"]) == 0
    assert main(["accounts", "disable", "777"]) == 0
    assert main(["accounts", "enable", "777"]) == 0
    assert main(["accounts", "resync", "777"]) == 0


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (["accounts", "add", "12x"], "s", "not a Hostaway account id"),
        (["accounts", "add", "-5"], "s", "not a Hostaway account id"),
        (["accounts", "add", "55"], "\n", "secret is empty"),
        (["accounts", "enable", "999"], "", "accounts add 999"),
        (["accounts", "add", "55", "--client-secret-env", "NOPE_UNSET"], "", "NOPE_UNSET"),
    ],
)
def test_bad_input_exits_non_zero_with_a_clear_message_and_writes_nothing(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], stdin: str, expected: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects malformed ids itself
        code = int(exc.code or 0)
    assert code == 2
    assert expected in capsys.readouterr().err
    assert main(["accounts", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()[1:]
    assert listed == []


def test_a_bad_database_url_names_the_variable(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOSTAWAY_DATABASE_URL", "mysql://x@y/z")
    assert main(["accounts", "list"]) == 2
    assert "HOSTAWAY_DATABASE_URL" in capsys.readouterr().err


def test_sync_command_runs_through_dagster_and_exits_non_zero_on_failure(
    env: dict[str, str], sandbox: SandboxServer, tmp_path: Path
) -> None:
    account, other = sandbox.state.account_ids()[:2]
    # The four core entities: the command's path through Dagster is the same for all 38.
    full_env = {**os.environ, **env, "HOSTAWAY_API_URL": sandbox.url, **client_env(sandbox),
                "ACCT_SECRET": sandbox.state.secret(account),
                "OTHER_SECRET": sandbox.state.secret(other),
                "HOSTAWAY_ENTITIES": "listings,reservations,conversations,messages"}  # fmt: skip
    cli = [sys.executable, "-m", "hostaway_pipeline.cli"]
    for acct, var in ((account, "ACCT_SECRET"), (other, "OTHER_SECRET")):
        add = subprocess.run([*cli, "accounts", "add", str(acct), "--client-secret-env", var],
                             env=full_env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert add.returncode == 0, add.stderr
    # The flag repeated: both accounts are synced (argparse alone kept only the last one).
    ok = subprocess.run([*cli, "sync", "--account", str(account), "--account", str(other),
                         "--mode", "full"],
                        env=full_env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "hostaway/reservations" in ok.stdout
    for acct in (account, other):
        assert any(
            line.split()[:1] == [str(acct)] and ": ok;" in line for line in ok.stdout.splitlines()
        ), ok.stdout
    # No daemon serves this instance: the command says it runs the job itself, outside the queue,
    # and that is all it says on stderr (no Dagster warnings).
    assert "no dagster-daemon serves the instance" in ok.stderr
    assert "Warning" not in ok.stderr, ok.stderr
    sandbox.state.rotate_secret(account)
    sandbox.state.revoke_tokens(account)
    bad = subprocess.run([*cli, "sync", "--account", str(account)],
                         env=full_env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 1
    assert f"accounts set-secret {account}" in bad.stdout
    assert sandbox.state.secret(account) not in bad.stdout + bad.stderr
