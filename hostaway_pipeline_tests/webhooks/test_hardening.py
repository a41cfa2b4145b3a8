"""The receiver process (`webhooks serve`) against half-open connections, over real TCP on
loopback: 300 connections that never finish their headers do not stop a legitimate delivery,
even with the process limited to 256 descriptors, and each is closed after the header deadline.
The process gets no HOSTAWAY_SECRET_KEY (the receiver needs none)."""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.webhooks.store.events import webhook_events
from hostaway_pipeline_tests import waits
from hostaway_pipeline_tests.e2e.processes import Service, wait_for
from hostaway_pipeline_tests.webhooks.conftest import SECRET, keyed

HALF_OPEN = 300
FD_LIMIT = 256
HEADER_TIMEOUT_S = 4


def test_half_open_connections_do_not_stop_a_legitimate_delivery(
    fresh_pg_url: str, pg_engine: sa.Engine, secret_key: str, tmp_path: Path
) -> None:
    AccountRepo(pg_engine, SecretBox(secret_key)).add(101, "s" * 40)
    auth = keyed(pg_engine, 101)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTAWAY_")}
    env |= {"HOSTAWAY_DATABASE_URL": fresh_pg_url, "HOSTAWAY_WEBHOOK_SECRET": SECRET,
            "HOSTAWAY_HOME": str(tmp_path / "home"),
            "HOSTAWAY_WEBHOOK_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
            "HOSTAWAY_WEBHOOK_MAX_CONNECTIONS": "100"}  # fmt: skip
    exe = str(Path(sys.executable).with_name("hostaway-pipeline"))
    argv = ["sh", "-c", f"ulimit -n {FD_LIMIT} && exec {exe} webhooks serve --port 0"]
    service = Service("receiver", argv, env, Path.cwd(), tmp_path / "receiver.log")
    idle: list[socket.socket] = []
    try:

        def port() -> int | None:
            found = re.search(
                r"Uvicorn running on http://127\.0\.0\.1:(\d+)", service.log.read_text()
            )
            if found is None and service.popen.poll() is not None:
                raise AssertionError(f"the receiver exited:\n{service.tail()}")
            return int(found.group(1)) if found else None

        listening = wait_for(port, waits.PROCESS_S, "the receiver to listen", 0.05)
        for _ in range(HALF_OPEN):
            s = socket.create_connection(("127.0.0.1", listening), timeout=10)
            s.sendall(b"POST /webhooks/hostaway HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
            idle.append(s)
        event = {"object": "reservation", "event": "reservation.updated", "accountId": 101,
                 "data": {"id": 7, "updatedOn": "2026-12-01 10:00:00"}}  # fmt: skip
        started = time.monotonic()
        reply = requests.post(f"http://127.0.0.1:{listening}/webhooks/hostaway", json=event,
                              auth=auth, timeout=20)  # Hostaway's patience  # fmt: skip
        assert reply.status_code == 200 and time.monotonic() - started < 20
        with pg_engine.connect() as conn:
            assert conn.execute(sa.select(webhook_events.c.entity_id)).scalars().all() == [7]
        # The newest half-open connection (not evicted) is closed at the header deadline.
        last = idle[-1]
        last.settimeout(HEADER_TIMEOUT_S + waits.PROCESS_S)
        assert last.recv(1024) == b""
    finally:
        for s in idle:
            s.close()
        survivors = service.stop()
    assert survivors == []


def test_the_receiver_works_with_a_role_that_reads_accounts_and_writes_the_inbox_only(
    fresh_pg_url: str, pg_engine: sa.Engine, secret_key: str
) -> None:
    from hostaway_pipeline.warehouse import db
    from hostaway_pipeline.webhooks.app import check_migrated
    from hostaway_pipeline.webhooks.local import LocalReceiver
    from hostaway_pipeline_tests.webhooks.conftest import CONFIG

    AccountRepo(pg_engine, SecretBox(secret_key)).add(101, "s" * 40)
    auth = keyed(pg_engine, 101)
    role = f"{pg_engine.url.database}_receiver"
    grants = [
        f"DROP ROLE IF EXISTS {role}", f"CREATE ROLE {role} LOGIN",
        f"GRANT USAGE ON SCHEMA hostaway TO {role}",
        f"GRANT SELECT (account_id, active) ON hostaway.accounts TO {role}",  # not the secrets
        f"GRANT SELECT ON hostaway.webhook_registrations, hostaway.alembic_version TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON hostaway.webhook_events TO {role}",
    ]  # fmt: skip
    with pg_engine.begin() as conn:
        for statement in grants:
            conn.execute(sa.text(statement))
    engine = db.create_engine(pg_engine.url.set(username=role))
    try:
        check_migrated(engine)  # reads the revision; migrates nothing
        with LocalReceiver(engine, CONFIG) as receiver:
            event = {"object": "reservation", "event": "reservation.updated", "accountId": 101,
                     "data": {"id": 7, "updatedOn": "2026-12-01 10:00:00"}}  # fmt: skip
            for _ in range(2):  # stored, then a duplicate (UPDATE)
                assert requests.post(receiver.url, json=event, auth=auth, timeout=60).ok
        with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("SELECT secret_encrypted FROM hostaway.accounts"))
    finally:
        engine.dispose()
        with pg_engine.begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
