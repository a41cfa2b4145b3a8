"""Scenario 8, part 3: receipt-to-warehouse lag of a Poisson stream of changes over 100 accounts,
applied by the real `webhook_sensor`, and the API requests each event kind costs."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from typing import Any

import sqlalchemy as sa

from benchmarks.context import Context
from benchmarks.scenarios.s8_webhooks.receiver import keyed, pct
from benchmarks.warehouse import fresh_warehouse
from benchmarks.webhook_load import ReceiverProcess, SensorLoop, wait_until


def stream(ctx: Context, receiver: ReceiverProcess) -> dict[str, Any]:
    from hostaway_pipeline.definitions import build_definitions
    from hostaway_pipeline.settings import Settings
    from hostaway_sandbox import SandboxServer, SeedSpec

    spec = SeedSpec(accounts=ctx.pick(100, 5), listings=2, reservations=6, conversation_ratio=1.0,
                    messages_per_conversation=2, first_account_id=30001)  # fmt: skip
    rng = random.Random(8)
    with SandboxServer(seed=spec, token_activation_delay_s=0.05) as sandbox:
        state = sandbox.state
        engine = fresh_warehouse(
            ctx.db_url, ctx.key, {a: state.secret(a) for a in state.account_ids()}
        )
        auth = keyed(engine, state.account_ids(), receiver.url)
        for aid in state.account_ids():
            login, password = auth[aid]
            body = {"isEnabled": 1, "url": receiver.url, "login": login, "password": password}
            assert (
                sandbox.webhooks.handle(aid, "POST", "/v1/webhooks/unifiedWebhooks", body)[0] == 200
            )
        settings = Settings.from_env({
            "HOSTAWAY_API_URL": sandbox.url, "HOSTAWAY_DATABASE_URL": ctx.db_url,
            "HOSTAWAY_SECRET_KEY": ctx.key, "HOSTAWAY_HOME": tempfile.mkdtemp(prefix="bench8-"),
        })  # fmt: skip
        loop = SensorLoop(build_definitions(settings), ctx.pick(20.0, 1.0)).start()
        before, kinds = sandbox.stats.total, {"reservation": 0, "message": 0}
        duration, rate = ctx.pick(120.0, 6.0), ctx.pick(2.0, 2.0)
        ends = time.monotonic() + duration
        while time.monotonic() < ends:
            aid = rng.choice(state.account_ids())
            pick = rng.random()
            if pick < 0.45:
                rid = rng.choice(state.reservations(aid))["id"]
                n = sum(kinds.values())  # every event distinct: none is a redelivery
                state.update_reservation(
                    aid, rid, numberOfGuests=rng.randint(1, 6), guestNote=f"u{n}"
                )
            elif pick < 0.6:
                state.add_reservation(aid)
            else:
                conv = rng.choice(state.conversations(aid))["id"]
                state.add_message(aid, conv, body="Is parking included?")
            kinds["reservation" if pick < 0.6 else "message"] += 1
            time.sleep(rng.expovariate(rate))
        stream_ended = time.monotonic()

        def drained() -> bool:
            with engine.connect() as conn:
                left = conn.scalar(
                    sa.text("SELECT count(*) FROM hostaway.webhook_events WHERE applied_at IS NULL")
                )
            return sandbox.webhooks.pending() == 0 and left == 0  # fmt: skip

        wait_until(drained, 600, "every event delivered and applied")
        drain_s = time.monotonic() - stream_ended
        loop.stop()
        api = sandbox.stats.total - before
        by_kind = {"reservation_fetches": 0, "conversation_fetches": 0, "message_list_fetches": 0}
        for rec in sandbox.stats.log[before:]:
            parts = rec.path.split("/")
            if len(parts) == 4 and parts[2] == "reservations":
                by_kind["reservation_fetches"] += 1
            elif len(parts) == 4 and parts[2] == "conversations":
                by_kind["conversation_fetches"] += 1
            elif len(parts) == 5 and parts[4] == "messages":
                by_kind["message_list_fetches"] += 1
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT extract(epoch FROM applied_at - received_at), outcome "
                                        "FROM hostaway.webhook_events")).all()  # fmt: skip
        engine.dispose()
    lags = [float(r[0]) for r in rows]
    return {
        "accounts": spec.accounts, "events": sum(kinds.values()), **kinds, "stored": len(rows),
        "rate_per_s": rate, "duration_s": duration, "drain_s": round(drain_s, 1),
        "lag_p50_s": round(pct(lags, 0.5), 2), "lag_p95_s": round(pct(lags, 0.95), 2),
        "lag_max_s": round(max(lags, default=0.0), 2), "api_requests": api, **by_kind,
        "api_requests_by_runs": loop.api_requests, "sensor_ticks": loop.ticks, "runs": loop.runs,
        "failed_runs": loop.failed_runs, "run_s_median": round(statistics.median(loop.run_s or [0.0]), 2),
        "outcomes": {o: sum(1 for r in rows if r[1] == o) for o in {r[1] for r in rows}},
    }  # fmt: skip
