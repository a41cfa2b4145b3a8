"""One account's sync in a process of its own, so that a test can SIGKILL it anywhere.

    echo '{"db": URL, "key": FERNET_KEY, "account": 10001, "mode": "full", "lookback_s": 0,
           "client": {ClientConfig fields}}' | python -m hostaway_pipeline_tests.faults.worker

The job comes on stdin (never in argv, which every user can read). Runs the streams in the order
of the Dagster job; exit 0 when all finished, 1 with the error's type and message on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

from hostaway_pipeline.accounts.ratelimit import SqlRateLimitStore
from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.accounts.tokens import SqlTokenStore
from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.sync.engine import SyncEngine, SyncMode
from hostaway_pipeline.warehouse import db
from hostaway_pipeline_tests.support.wiring import ENGINE_STREAMS


def main() -> int:
    job = json.loads(sys.stdin.read())
    engine = db.create_engine(job["db"])
    box = SecretBox(job["key"])
    account_id = int(job["account"])
    client = HostawayClient(
        account_id,
        AccountRepo(engine, box).client_secret(account_id),
        ClientConfig(**job["client"]),
        SqlTokenStore(engine, box),
        SqlRateLimitStore(engine),
    )
    try:
        with client:
            sync = SyncEngine(client, engine, account_id)
            for spec in ENGINE_STREAMS:
                sync.run(spec, SyncMode(job["mode"]), timedelta(seconds=job["lookback_s"]))
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
