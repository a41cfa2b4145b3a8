"""Per-account webhook credentials over real HTTP with the real PostgreSQL: a credential is good
for its own account only; unknown and disabled accounts get the same refusal; re-keying voids
the old credential; the deprecated shared pair works only until an account is re-keyed."""

from __future__ import annotations

from typing import Any

import requests
import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.webhooks import registration as reg
from hostaway_pipeline.webhooks.credentials import derive, new_key_id
from hostaway_pipeline.webhooks.local import LocalReceiver
from hostaway_pipeline.webhooks.store import registrations as regs
from hostaway_pipeline.webhooks.store.events import webhook_events
from hostaway_pipeline_tests.helpers import wire
from hostaway_pipeline_tests.webhooks.conftest import CONFIG, LOGIN, PASSWORD, SECRET, keyed
from hostaway_sandbox import SandboxServer


def _event(account_id: int, rid: int = 7) -> dict[str, Any]:
    return {"object": "reservation", "event": "reservation.updated", "accountId": account_id,
            "data": {"id": rid, "guestName": "Mallory", "totalPrice": 0.01, "status": "cancelled",
                     "updatedOn": "2026-12-01 10:00:00"}}  # fmt: skip


def _stored(engine: sa.Engine) -> list[tuple[int, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(webhook_events.c.account_id, webhook_events.c.entity_id))
        return sorted((r.account_id, r.entity_id) for r in rows)


def _post(url: str, event: dict[str, Any], auth: tuple[str, str]) -> requests.Response:
    return requests.post(url, json=event, auth=auth, timeout=60)


def test_a_credential_is_good_for_its_own_account_only(
    receiver: LocalReceiver, pg_engine: sa.Engine, secret_key: str
) -> None:
    repo = AccountRepo(pg_engine, SecretBox(secret_key))
    repo.add(102, "t" * 40)
    a, b = keyed(pg_engine, 101), keyed(pg_engine, 102)
    forged = _post(receiver.url, _event(102), a)  # A's credential, B's account
    assert (forged.status_code, forged.content) == (401, b"")
    assert _stored(pg_engine) == []  # stored nowhere, for neither account
    assert _post(receiver.url, _event(101), b).status_code == 401
    assert _post(receiver.url, _event(101), a).status_code == 200
    assert _post(receiver.url, _event(102, rid=8), b).status_code == 200
    assert _stored(pg_engine) == [(101, 7), (102, 8)]
    # A login naming B with A's password, and a wrong password: refused as well.
    assert _post(receiver.url, _event(102), (b[0], a[1])).status_code == 401
    assert _post(receiver.url, _event(101), (a[0], a[1] + "x")).status_code == 401


def test_unknown_and_disabled_accounts_get_the_same_refusal_and_nothing_is_stored(
    receiver: LocalReceiver, pg_engine: sa.Engine, secret_key: str
) -> None:
    repo = AccountRepo(pg_engine, SecretBox(secret_key))
    repo.add(102, "t" * 40)
    b = keyed(pg_engine, 102)
    repo.disable(102)
    disabled = _post(receiver.url, _event(102), b)
    # An unknown account: even a credential derived with the real secret (which an outsider
    # cannot have) and any key id is refused, the same way.
    ghost = derive(SECRET, 999, new_key_id())
    unknown = _post(receiver.url, _event(999), (ghost.login, ghost.password))
    assert (disabled.status_code, disabled.content) == (unknown.status_code, unknown.content)
    assert dict(disabled.headers).keys() == dict(unknown.headers).keys()
    assert disabled.status_code == 401
    # The shared pair (deprecated) gets the same answer for them.
    assert _post(receiver.url, _event(102), (LOGIN, PASSWORD)).status_code == 401
    assert _post(receiver.url, _event(999), (LOGIN, PASSWORD)).status_code == 401
    assert _stored(pg_engine) == []
    health = requests.get(receiver.base_url + "/healthz", timeout=60).json()
    assert health == {"status": "ok"}  # nothing an outsider can grow


def test_the_shared_pair_works_until_the_account_is_re_keyed(
    receiver: LocalReceiver, pg_engine: sa.Engine
) -> None:
    assert _post(receiver.url, _event(101), (LOGIN, PASSWORD)).status_code == 200
    own = keyed(pg_engine, 101)
    assert _post(receiver.url, _event(101, rid=8), (LOGIN, PASSWORD)).status_code == 401
    assert _post(receiver.url, _event(101, rid=9), own).status_code == 200
    assert _stored(pg_engine) == [(101, 7), (101, 9)]


def test_register_re_keys_and_the_sandbox_delivers_with_the_new_credential_only(
    fresh_pg_url: str, secret_key: str, sandbox: SandboxServer
) -> None:
    wired = wire(fresh_pg_url, secret_key, sandbox)
    aid = sandbox.state.account_ids()[0]
    rid = sandbox.state.reservations(aid)[0]["id"]
    with LocalReceiver(wired.engine, CONFIG) as receiver:
        with wired.client(sandbox, aid) as client:
            reg.register_account(wired.engine, client, receiver.url, SECRET, rekey=True)
            old = sandbox.webhooks.registrations(aid)[0]
            reg.register_account(wired.engine, client, receiver.url, SECRET, rekey=True)
        new = sandbox.webhooks.registrations(aid)[0]
        assert new["id"] == old["id"] and new["password"] != old["password"]
        record = regs.registrations(wired.engine)[aid]
        assert record.key_id and record.pending_key_id is None
        event = _event(aid, rid)
        assert _post(receiver.url, event, (old["login"], old["password"])).status_code == 401
        sandbox.state.update_reservation(aid, rid, guestNote="delivered")
        deadline_ok = _wait(lambda: any(e[3] == 200 for e in sandbox.webhooks.log))
        assert deadline_ok, sandbox.webhooks.log
    assert _stored(wired.engine) == [(aid, rid)]


def _wait(cond: Any, timeout_s: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False
