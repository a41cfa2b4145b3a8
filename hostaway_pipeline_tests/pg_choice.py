"""Which PostgreSQL the test suite uses, decided once per run.

1. `HOSTAWAY_TEST_DATABASE_URL`, when set, is used as it is;
2. else the local server (127.0.0.1:5432, user root, trust), when it answers a quick connection;
3. else a throwaway embedded cluster (`pg_server.py`), started when a test first needs PostgreSQL.

`HOSTAWAY_TEST_POSTGRES=embedded` forces 3 and `=local` forces 1/2 (no fallback: the run stops
with the reason when that server does not answer).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

LOCAL_URL = "postgresql+psycopg://root@127.0.0.1:5432/hostaway_test"
MODES = ("auto", "local", "embedded")


class PgChoiceError(ValueError):
    """The requested PostgreSQL for the tests cannot be used; the message says why."""


@dataclass(frozen=True)
class PgChoice:
    kind: str  # "configured", "local" or "embedded"
    url: str | None  # None for the embedded cluster until it has started
    database: str  # the test database's name
    why: str  # shown in the run's header

    def describe(self) -> str:
        if self.url is None:
            return f"embedded cluster, started on first use ({self.why})"
        shown = sa.make_url(self.url).render_as_string(hide_password=True)
        return f"{self.kind} server {shown} ({self.why})"


def probe(url: str) -> str | None:
    """None if PostgreSQL at `url` accepts a connection within ~2 s, else the reason it did not."""
    import psycopg

    target = sa.make_url(url).set(drivername="postgresql", database="postgres")
    try:
        with psycopg.connect(target.render_as_string(hide_password=False), connect_timeout=2):
            return None
    except psycopg.Error as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def choose(env: Mapping[str, str] = os.environ) -> PgChoice:
    mode = env.get("HOSTAWAY_TEST_POSTGRES", "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise PgChoiceError(f"HOSTAWAY_TEST_POSTGRES={mode!r}: expected one of {', '.join(MODES)}")
    configured = env.get("HOSTAWAY_TEST_DATABASE_URL", "").strip()
    database = sa.make_url(configured or LOCAL_URL).database or "hostaway_test"
    if mode == "embedded":
        return PgChoice("embedded", None, database, "HOSTAWAY_TEST_POSTGRES=embedded")
    if configured and mode == "auto":
        return PgChoice("configured", configured, database, "HOSTAWAY_TEST_DATABASE_URL")
    url = configured or LOCAL_URL
    refused = probe(url)
    if mode == "local":
        if refused:
            shown = sa.make_url(url).render_as_string(hide_password=True)
            raise PgChoiceError(
                f"HOSTAWAY_TEST_POSTGRES=local, but PostgreSQL at {shown} does not answer: "
                f"{refused}. Start it, or unset HOSTAWAY_TEST_POSTGRES to fall back to the "
                "embedded cluster"
            )
        return PgChoice("local", url, database, "HOSTAWAY_TEST_POSTGRES=local")
    if refused:
        return PgChoice("embedded", None, database, f"127.0.0.1:5432 did not answer: {refused}")
    return PgChoice("local", url, database, "it answers on 127.0.0.1:5432")
