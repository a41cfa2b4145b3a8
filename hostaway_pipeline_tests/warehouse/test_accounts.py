"""The account registry: lifecycle, flags, typed errors, and secrets sealed at rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountError, AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.catalog.marts import MARTS
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.warehouse.writes import upsert_rows

SECRET = "f00dfacecafebeef0123456789abcdef0123456789abcdef0123456789abcdef"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.plain-access-token-value"


@pytest.fixture
def repo(engine: sa.Engine, box: SecretBox) -> AccountRepo:
    return AccountRepo(engine, box)


def test_add_get_and_list_without_exposing_the_secret(repo: AccountRepo) -> None:
    info = repo.add(20002, SECRET)
    repo.add(10001, "other-secret")
    assert info.account_id == 20002 and info.active and not info.credentials_rejected
    assert info.created_at.tzinfo == UTC
    assert [a.account_id for a in repo.list_accounts()] == [10001, 20002]
    assert SECRET not in repr(repo.list_accounts())
    assert repo.client_secret(20002) == SECRET


def test_adding_twice_says_how_to_change_the_secret(repo: AccountRepo) -> None:
    repo.add(12345, SECRET)
    with pytest.raises(AccountError, match=r"12345 is already registered.*set-secret 12345"):
        repo.add(12345, SECRET)


@pytest.mark.parametrize("bad_id", [0, -5, True, "123"])
def test_account_ids_must_be_positive_integers(repo: AccountRepo, bad_id: object) -> None:
    with pytest.raises(AccountError, match="positive integer"):
        repo.add(bad_id, SECRET)  # type: ignore[arg-type]


def test_an_empty_secret_is_refused(repo: AccountRepo) -> None:
    with pytest.raises(AccountError, match=r"account 7.*empty.*accounts add 7"):
        repo.add(7, "  \n")


def test_unknown_accounts_name_the_command_that_registers_them(repo: AccountRepo) -> None:
    expected = r"account 99 is not registered; add it with `hostaway-pipeline accounts add 99`"
    for call in (
        lambda: repo.get(99),
        lambda: repo.client_secret(99),
        lambda: repo.enable(99),
        lambda: repo.set_secret(99, SECRET),
        lambda: repo.remove(99),
        lambda: repo.record_error(99, "boom"),
    ):
        with pytest.raises(AccountError, match=expected):
            call()


def test_enable_and_disable(repo: AccountRepo) -> None:
    repo.add(1, SECRET)
    repo.disable(1)
    assert not repo.get(1).active
    repo.enable(1)
    assert repo.get(1).active


def test_set_secret_clears_rejection_and_drops_the_cached_token(
    repo: AccountRepo, engine: sa.Engine, box: SecretBox
) -> None:
    repo.add(1, "old-secret")
    before = repo.get(1).secret_updated_at
    tokens = SqlTokenStore(engine, box)
    now = datetime.now(UTC)
    tokens.save_token(
        "https://api.hostaway.com", 1, StoredToken(TOKEN, now, now + timedelta(days=30))
    )
    repo.record_error(1, "403 at /accessTokens", credentials_rejected=True)
    assert repo.get(1).credentials_rejected

    repo.set_secret(1, "new-secret")
    info = repo.get(1)
    assert not info.credentials_rejected and info.last_error is None
    assert info.secret_updated_at > before
    assert repo.client_secret(1) == "new-secret"
    assert tokens.load_token("https://api.hostaway.com", 1) is None


def test_errors_are_recorded_with_the_secret_masked_and_cleared(repo: AccountRepo) -> None:
    repo.add(1, SECRET)
    repo.record_error(1, f"HTTP 500 while posting client_secret={SECRET}")
    info = repo.get(1)
    assert info.last_error == "HTTP 500 while posting client_secret=***"
    assert info.last_error_at is not None and not info.credentials_rejected
    repo.record_error(1, "403", credentials_rejected=True)
    repo.record_error(1, "timeout")  # a later error does not hide the rejection
    assert repo.get(1).credentials_rejected
    repo.clear_error(1)
    info = repo.get(1)
    assert (info.last_error, info.last_error_at, info.credentials_rejected) == (None, None, False)


def test_clear_resync_keeps_a_request_made_after_the_sync_started(repo: AccountRepo) -> None:
    repo.add(1, SECRET)
    repo.request_resync(1)
    requested = repo.get(1).resync_requested_at
    assert requested is not None
    assert not repo.clear_resync(1, before=requested - timedelta(seconds=1))
    assert repo.get(1).resync_requested_at == requested
    assert repo.clear_resync(1, before=requested)
    assert repo.get(1).resync_requested_at is None


def _reservation(rid: int) -> dict[str, object]:
    return {"id": rid, "payload": {"id": rid, "guestName": "Ann"}}


def test_remove_keeps_data_unless_purged(repo: AccountRepo, engine: sa.Engine) -> None:
    repo.add(1, SECRET)
    repo.add(2, SECRET)
    with engine.begin() as conn:
        upsert_rows(conn, schema.reservations, 1, [_reservation(1), _reservation(2)])
        upsert_rows(conn, schema.reservations, 2, [_reservation(1)])
    assert repo.remove(1) == 0
    assert [a.account_id for a in repo.list_accounts()] == [2]
    repo.add(1, SECRET)
    assert repo.remove(1, purge_data=True) == 2
    with engine.connect() as conn:
        left = conn.execute(sa.select(schema.reservations.c.account_id)).scalars().all()
    assert left == [2]


def test_purge_removes_the_accounts_mart_rows_too(repo: AccountRepo, engine: sa.Engine) -> None:
    now = datetime.now(UTC)
    marts = tuple(schema.table(m.name) for m in MARTS)  # a new mart needs a sample row below
    row = {
        "listing_monthly_stats": {"listing_id": 7, "month": now.date(), "booked_nights": 1,
                                  "revenue": 1, "available_nights": 30},
        "reservation_financials": {"reservation_id": 9, "finance_fields": 0},
    }  # fmt: skip
    repo.add(1, SECRET)
    with engine.begin() as conn:
        for table in marts:
            for account in (1, 2):
                values = {**row[table.name], "account_id": account, "computed_at": now}
                conn.execute(sa.insert(table), [values])
    assert repo.remove(1, purge_data=True) == 2
    with engine.connect() as conn:
        for table in marts:
            assert conn.execute(sa.select(table.c.account_id)).scalars().all() == [2]


def _all_stored_text(engine: sa.Engine) -> str:
    """Every row of every warehouse table, as text, plus the raw SQLite files."""
    parts = []
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
        if conn.dialect.name == "postgresql":
            names = sa.inspect(conn).get_table_names(schema="hostaway")
            for name in names:
                parts += (
                    conn.exec_driver_sql(f"SELECT t::text FROM hostaway.{name} t").scalars().all()
                )
    if engine.dialect.name == "sqlite":
        database = Path(str(engine.url.database))
        for path in database.parent.glob(database.name + "*"):
            if path.is_file():
                parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_secrets_and_tokens_are_never_stored_in_plain_text(
    repo: AccountRepo, engine: sa.Engine, box: SecretBox
) -> None:
    repo.add(1, SECRET)
    repo.set_secret(1, SECRET[::-1])
    repo.add(2, SECRET)
    now = datetime.now(UTC)
    SqlTokenStore(engine, box).save_token(
        "https://api.hostaway.com", 2, StoredToken(TOKEN, now, now + timedelta(days=1))
    )
    repo.record_error(2, f"failed with {SECRET}")
    stored = _all_stored_text(engine)
    assert "failed with ***" in stored  # the dump does see what is stored
    for plain in (SECRET, SECRET[::-1], TOKEN, "plain-access-token-value"):
        assert plain not in stored
    assert repo.client_secret(1) == SECRET[::-1]
