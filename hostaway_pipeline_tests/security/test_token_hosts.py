"""A token is only ever handed to a client of the host that issued it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.client.auth import clear_memory_cache
from hostaway_pipeline.client.config import api_host
from hostaway_pipeline.client.memory import MemoryRateLimitStore
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.warehouse import db, schema
from hostaway_sandbox import SandboxServer

NOW = datetime.now(UTC)
OTHER = "https://api.hostaway.com"


def token(value: str) -> StoredToken:
    return StoredToken(value, NOW - timedelta(days=1), NOW + timedelta(days=700))


def test_the_store_keys_tokens_by_host_and_account(any_db_url: str, secret_key: str) -> None:
    engine = db.create_engine(any_db_url)
    db.upgrade(engine)
    store = SqlTokenStore(engine, SecretBox(secret_key))
    store.save_token(OTHER, 7, token("for-hostaway"))
    store.save_token("http://127.0.0.1:9", 7, token("for-local"))
    assert store.load_token(OTHER, 7) == token("for-hostaway")
    assert store.load_token("http://127.0.0.1:9", 7) == token("for-local")
    assert store.load_token("https://attacker.example", 7) is None
    assert store.invalidate_token("https://attacker.example", 7, "for-hostaway") is False
    assert store.load_token(OTHER, 7) == token("for-hostaway")
    engine.dispose()


def test_a_client_never_sends_a_token_stored_for_another_host(
    sandbox: SandboxServer, fresh_pg_url: str, secret_key: str
) -> None:
    clear_memory_cache()
    engine = db.create_engine(fresh_pg_url)
    db.upgrade(engine)
    store = SqlTokenStore(engine, SecretBox(secret_key))
    aid = sandbox.state.account_ids()[0]
    store.save_token(OTHER, aid, token("real-hostaway-token"))
    config = ClientConfig(base_url=sandbox.url, window_s=1.0, token_activation_delay_s=0.05)
    with HostawayClient(
        aid, sandbox.state.secret(aid), config, store, MemoryRateLimitStore()
    ) as client:
        client.get("/listings", {"limit": 1})
        assert client.stats.token_source == "issued"  # minted at the sandbox, not reused
    # Had the other host's token been sent, the sandbox would have refused it (403) first.
    assert sandbox.stats.by_status() == {200: 2}
    assert sandbox.stats.token_requests(aid) == 1
    assert store.load_token(OTHER, aid) == token("real-hostaway-token")  # left alone
    assert store.load_token(api_host(sandbox.url), aid) is not None
    clear_memory_cache()
    engine.dispose()


def test_migration_0002_rebuilds_the_token_table_keyed_by_host(empty_pg_url: str) -> None:
    engine = db.create_engine(empty_pg_url)
    cfg = db.alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            sa.text("INSERT INTO hostaway.access_tokens VALUES (5, 'sealed', 'h', now(), now())")
        )
        conn.commit()
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(schema.access_tokens)) == 0
        pk = sa.inspect(conn).get_pk_constraint("access_tokens", schema="hostaway")
    assert pk["constrained_columns"] == ["api_host", "account_id"]
    engine.dispose()
