"""The receiver: a Starlette app storing Hostaway's unified-webhook deliveries in the warehouse.

`POST /webhooks/hostaway` answers 2xx only once the event is committed to `webhook_events`:
- 401 (no detail) unless HTTP Basic auth matches HOSTAWAY_WEBHOOK_LOGIN / _PASSWORD;
- 413 over the size cap (read no further), 400 for a body that is not an envelope (Hostaway does
  not retry 4xx, and a malformed body will not get better);
- 200 for an unknown account (counted and logged by id, nothing stored: Hostaway disables an
  endpoint that keeps failing) and for events this version does not apply (stored);
- 503 when the warehouse cannot be written, so Hostaway retries (up to 3 times in ~1 h).
`GET /healthz` is liveness (no database); `GET /readyz` checks the warehouse.
Logs name the account, object, event and entity id; never the body (guest data).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
from collections import Counter
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hostaway_pipeline.payloads import storable_json
from hostaway_pipeline.warehouse import webhook_events as inbox
from hostaway_pipeline.webhooks.config import WebhookConfig
from hostaway_pipeline.webhooks.envelope import Envelope, EnvelopeError, parse

log = logging.getLogger("hostaway_pipeline.webhooks")
PATH = "/webhooks/hostaway"


class _TooLarge(Exception):
    pass


class Counters:
    """Per-process counts, shown by /healthz (ids and numbers only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_outcome: Counter[str] = Counter()
        self.unknown_accounts: Counter[int] = Counter()

    def add(self, outcome: str, unknown_account: int | None = None) -> None:
        with self._lock:
            self.by_outcome[outcome] += 1
            if unknown_account is not None:
                self.unknown_accounts[unknown_account] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "outcomes": dict(self.by_outcome),
                "unknown_accounts": {str(k): v for k, v in self.unknown_accounts.items()},
            }


def _authorized(header: str | None, config: WebhookConfig) -> bool:
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    login, sep, password = decoded.partition(b":")
    # Both compared, always: no early exit tells which half was wrong.
    ok_login = hmac.compare_digest(login, config.login.encode("utf-8"))
    ok_password = hmac.compare_digest(password, config.password.encode("utf-8"))
    return bool(sep) and ok_login and ok_password


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > cap):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _TooLarge
    return bytes(body)


def _store(engine: sa.Engine, envelope: Envelope) -> str:
    """Commit the event; 'stored', 'duplicate' or 'unknown_account'."""
    stored, _marked = storable_json(
        {"object": envelope.object, "event": envelope.event, "accountId": envelope.account_id,
         "data": envelope.data}
    )  # fmt: skip
    with engine.begin() as conn:
        if not inbox.account_known(conn, envelope.account_id):
            return "unknown_account"
        new = inbox.store_event(
            conn, envelope.key(), envelope.account_id, envelope.object, envelope.event,
            envelope.entity_id, stored,
        )  # fmt: skip
    return "stored" if new else "duplicate"


def create_app(engine: sa.Engine, config: WebhookConfig) -> Starlette:
    """The receiver app on `engine` (already migrated)."""
    counters = Counters()

    async def receive(request: Request) -> Response:
        if not _authorized(request.headers.get("authorization"), config):
            counters.add("unauthorized")
            return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="webhooks"'})
        try:
            body = await _read_capped(request, config.max_body_bytes)
        except _TooLarge:
            counters.add("too_large")
            log.warning("webhook refused: body over %d bytes", config.max_body_bytes)
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            envelope = parse(body)
        except EnvelopeError as exc:
            counters.add("malformed")
            log.warning("webhook refused: %s", exc)  # names fields, never values
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            outcome = await run_in_threadpool(_store, engine, envelope)
        except sa.exc.SQLAlchemyError as exc:
            counters.add("warehouse_down")
            log.error("webhook not stored, answered 503 (warehouse: %s)", type(exc).__name__)
            return JSONResponse({"error": "warehouse unavailable"}, status_code=503)
        unknown = envelope.account_id if outcome == "unknown_account" else None
        counters.add(outcome, unknown)
        log.info("webhook %s: account %s %s %s id=%s", outcome, envelope.account_id,
                 envelope.object, envelope.event, envelope.entity_id)  # fmt: skip
        return JSONResponse({"status": outcome}, status_code=200)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", **counters.snapshot()})

    def _ping() -> None:
        with engine.connect() as conn:
            conn.execute(sa.select(inbox.webhook_events.c.event_key).limit(1))

    async def readyz(_request: Request) -> Response:
        try:
            await run_in_threadpool(_ping)
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "warehouse unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[
            Route(PATH, receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )


def app_from_env() -> Starlette:
    """The app for `uvicorn --factory` (each worker builds its own engine from the environment)."""
    from hostaway_pipeline.settings import Settings
    from hostaway_pipeline.warehouse import db

    settings = Settings.from_env()
    config = WebhookConfig.from_env()
    if not log.handlers:  # uvicorn configures only its own loggers
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    engine = db.create_engine(settings.database_url)
    db.upgrade_once(engine)
    return create_app(engine, config)
