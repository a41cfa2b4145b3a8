"""Key rotation on the real PostgreSQL: the old key keeps working for reading until
`keys rotate` has re-sealed every secret and token under the new one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox, SecretKeyError
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.cli import main
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.warehouse import db, schema

HOST = "https://api.hostaway.com"


@pytest.fixture
def env(fresh_pg_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(os.environ):
        if name.startswith("HOSTAWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOSTAWAY_DATABASE_URL", fresh_pg_url)
    monkeypatch.setenv("HOSTAWAY_HOME", str(tmp_path))
    return fresh_pg_url


def _sealed(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        secrets = conn.scalars(sa.select(schema.accounts.c.secret_encrypted)).all()
        tokens = conn.scalars(sa.select(schema.access_tokens.c.token_encrypted)).all()
        canary = conn.scalars(sa.select(schema.meta.c.value)).all()
    return [*secrets, *tokens, *canary]


def test_rotate_reseals_every_secret_and_token_under_the_new_key(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", old)
    for account_id, secret in ((11, "secret-eleven"), (12, "secret-twelve")):
        monkeypatch.setenv("HOSTAWAY_CLIENT_SECRET", secret)
        assert main(["accounts", "add", str(account_id), "--client-secret-env",
                     "HOSTAWAY_CLIENT_SECRET"]) == 0  # fmt: skip
    engine = db.create_engine(env)
    now = datetime.now(UTC)
    token = StoredToken("token-of-eleven", now, now + timedelta(days=700))
    SqlTokenStore(engine, SecretBox(old)).save_token(HOST, 11, token)

    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", new)  # the new key alone cannot open the data
    assert main(["accounts", "list"]) == 2
    assert "sealed with another HOSTAWAY_SECRET_KEY" in capsys.readouterr().err

    monkeypatch.setenv("HOSTAWAY_SECRET_KEY_PREVIOUS", old)  # during the rotation: both work
    assert main(["accounts", "list"]) == 0
    before = _sealed(engine)
    assert main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "re-sealed 2 account secret(s) and 1 token(s)" in out
    assert old not in out and new not in out
    after = _sealed(engine)
    assert len(after) == len(before) and not set(after) & set(before)

    monkeypatch.delenv("HOSTAWAY_SECRET_KEY_PREVIOUS")  # after it: the new key alone suffices
    assert main(["accounts", "list"]) == 0
    new_box = SecretBox(new)
    repo = AccountRepo(engine, new_box)
    assert repo.client_secret(11) == "secret-eleven"
    assert repo.client_secret(12) == "secret-twelve"
    assert SqlTokenStore(engine, new_box).load_token(HOST, 11) == token
    old_box = SecretBox(old)
    for sealed in after:  # nothing is left that only the old key opens
        with pytest.raises(SecretKeyError):
            old_box.open(sealed)
    engine.dispose()


def test_a_secret_no_key_opens_stops_the_rotation_and_changes_nothing(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, stray = (Fernet.generate_key().decode() for _ in range(3))
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", old)
    monkeypatch.setenv("HOSTAWAY_CLIENT_SECRET", "secret-eleven")
    assert main(["accounts", "add", "11", "--client-secret-env", "HOSTAWAY_CLIENT_SECRET"]) == 0
    engine = db.create_engine(env)
    with engine.begin() as conn:  # a row sealed with a key nobody has any more
        conn.execute(
            sa.insert(schema.accounts).values(
                account_id=13,
                secret_encrypted=SecretBox(stray).seal("lost"),
                active=True,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
                secret_updated_at=datetime.now(UTC),
                credentials_rejected=False,
            )
        )
    before = _sealed(engine)
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", new)
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY_PREVIOUS", old)
    assert main(["keys", "rotate"]) == 2
    err = capsys.readouterr().err
    assert "account 13" in err and "nothing was re-sealed" in err
    assert "accounts set-secret 13" in err
    assert _sealed(engine) == before
    engine.dispose()


def test_a_malformed_previous_key_names_its_variable(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("HOSTAWAY_SECRET_KEY_PREVIOUS", "not-a-key")
    assert main(["accounts", "list"]) == 2
    err = capsys.readouterr().err
    assert "HOSTAWAY_SECRET_KEY_PREVIOUS" in err and "not-a-key" not in err
