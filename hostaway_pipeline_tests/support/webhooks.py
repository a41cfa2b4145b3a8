"""Webhook registrations and deliveries in the sandbox, and what the warehouse stored of them."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.warehouse import schema
from hostaway_pipeline.webhooks.config import WebhookConfig
from hostaway_pipeline.webhooks.credentials import derive, new_key_id
from hostaway_pipeline.webhooks.store import registrations
from hostaway_pipeline_tests import waits
from hostaway_sandbox import SandboxServer

PATH = "/v1/webhooks/unifiedWebhooks"
SECRET = "receiver secret: 32 characters or more, never on argv"
# The deprecated shared pair, still accepted for accounts not re-keyed yet.
LOGIN = "hostaway-hooks"
PASSWORD = "correct horse battery staple"
CONFIG = WebhookConfig(SECRET, LOGIN, PASSWORD, max_body_bytes=64 * 1024)


def keyed(
    engine: sa.Engine, account_id: int, url: str = "https://hooks.example/"
) -> tuple[str, str]:
    """Record a registration of the account with a fresh key; its (login, password)."""
    key_id = new_key_id()
    registrations.begin_keying(engine, account_id, url, key_id)
    registrations.record_registered(engine, account_id, 1, url, key_id=key_id)
    cred = derive(SECRET, account_id, key_id)
    return cred.login, cred.password


def register(sandbox: SandboxServer, account_id: int, url: str, engine: sa.Engine) -> None:
    """The account's own credential (as `webhooks register` makes it), registered in the sandbox."""
    login, password = keyed(engine, account_id, url)
    body = {"isEnabled": 1, "url": url, "login": login, "password": password}
    status, reply = sandbox.webhooks.handle(account_id, "POST", PATH, body)
    assert status == 200 and reply["result"]["id"] > 0


def wait_delivered(sandbox: SandboxServer) -> None:
    """Until the sandbox has no delivery pending."""
    deadline = time.monotonic() + waits.PROCESS_S
    while sandbox.webhooks.pending():
        assert time.monotonic() < deadline, "deliveries never finished"
        time.sleep(0.05)


def stored(engine: sa.Engine, table: str, account_id: int, ids: list[int]) -> dict[int, Any]:
    """The warehouse's payloads of these ids, normalised."""
    t = schema.table(table)
    query = sa.select(t.c.id, t.c.payload).where(t.c.account_id == account_id, t.c.id.in_(ids))
    with engine.connect() as conn:
        return {r.id: json.dumps(r.payload, sort_keys=True) for r in conn.execute(query)}


def theirs(rows: list[dict[str, Any]], ids: list[int]) -> dict[int, Any]:
    """The sandbox's records of these ids, normalised as `stored` does."""
    return {r["id"]: json.dumps(r, sort_keys=True) for r in rows if r["id"] in ids}
