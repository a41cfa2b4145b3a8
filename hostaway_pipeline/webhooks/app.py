"""The receiver: a Starlette app storing Hostaway's unified-webhook deliveries in the warehouse.

`POST /webhooks/hostaway` answers 2xx only once the event is committed to `webhook_events`:
- 401 (no detail) unless HTTP Basic auth is the credential of the account the event names:
  `hostaway-<id>` with the password derived from HOSTAWAY_WEBHOOK_SECRET and the account's key id
  (webhooks/credentials.py), or, for an account not re-keyed yet, the deprecated shared
  HOSTAWAY_WEBHOOK_LOGIN / _PASSWORD. An unknown or disabled account, a credential of another
  account and a wrong password all get the same 401 and store nothing, so the answer does not
  tell which account ids exist;
- 413 over the size cap (read no further), 408 for a body not received within
  HOSTAWAY_WEBHOOK_BODY_TIMEOUT_S (15 s), 400 for a body that is not an envelope (Hostaway does
  not retry 4xx, and a malformed body will not get better);
- 200 for events this version does not apply (stored);
- 503 when the warehouse cannot be written, so Hostaway retries (up to 3 times in ~1 h).
`GET /healthz` is liveness (no database, no counters); `GET /readyz` checks the warehouse.
Logs name the account, object, event and entity id; never the body (guest data).
The app runs no migration (an operator step, `hostaway-pipeline migrate`) and needs no Fernet key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hostaway_pipeline.client.payloads import storable_json
from hostaway_pipeline.webhooks.config import WebhookConfig
from hostaway_pipeline.webhooks.credentials import login_account, matches
from hostaway_pipeline.webhooks.envelope import Envelope, EnvelopeError, parse
from hostaway_pipeline.webhooks.store import events as inbox
from hostaway_pipeline.webhooks.store.registrations import accepted_keys

log = logging.getLogger("hostaway_pipeline.webhooks")
PATH = "/webhooks/hostaway"
LEGACY = 0  # `_Caller.account_id` of the shared pair: the account comes from the envelope


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Caller:
    account_id: int  # LEGACY: the deprecated shared pair


def _basic(header: str | None) -> tuple[bytes, bytes] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    login, sep, password = decoded.partition(b":")
    return (login, password) if sep else None


def _legacy(login: bytes, password: bytes, config: WebhookConfig) -> bool:
    if config.legacy_login is None or config.legacy_password is None:
        return False
    # Both compared, always: no early exit tells which half was wrong.
    ok_login = hmac.compare_digest(login, config.legacy_login.encode("utf-8"))
    ok_password = hmac.compare_digest(password, config.legacy_password.encode("utf-8"))
    return ok_login and ok_password


def _authenticate(engine: sa.Engine, config: WebhookConfig, header: str | None) -> _Caller | None:
    """Who is calling: an account (its own credential), LEGACY, or None (refused)."""
    pair = _basic(header)
    if pair is None:
        return None
    login, password = pair
    account_id = login_account(login)
    if account_id is not None and config.secret is not None:
        with engine.connect() as conn:
            keys = accepted_keys(conn, account_id)
        accepted = tuple(k for k in keys or () if k)
        # Unknown and disabled accounts are compared too (against a dummy): same time, same 401.
        ok = matches(config.secret, account_id, accepted, password)
        return _Caller(account_id) if ok and accepted else None
    return _Caller(LEGACY) if _legacy(login, password, config) else None


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (
        not (declared.isascii() and declared.isdigit()) or len(declared) > 12 or int(declared) > cap
    ):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _TooLarge
    return bytes(body)


def _store(engine: sa.Engine, caller: _Caller, envelope: Envelope) -> str:
    """Commit the event; 'stored', 'duplicate' or 'refused' (stored nowhere)."""
    stored, _marked = storable_json(
        {"object": envelope.object, "event": envelope.event, "accountId": envelope.account_id,
         "data": envelope.data}
    )  # fmt: skip
    with engine.begin() as conn:
        keys = accepted_keys(conn, envelope.account_id)  # again, in the storing transaction
        if keys is None:  # unknown or disabled (now)
            return "refused"
        if caller.account_id == LEGACY and keys[0] is not None:  # re-keyed: the pair is void
            return "refused"  # (while a re-keying is in flight, the pair still delivers)
        if caller.account_id not in (LEGACY, envelope.account_id):  # A's credential, B's event
            return "refused"
        new = inbox.store_event(
            conn, envelope.key(), envelope.account_id, envelope.object, envelope.event,
            envelope.entity_id, stored,
        )  # fmt: skip
    return "stored" if new else "duplicate"


def _unauthorized() -> Response:
    return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="webhooks"'})


def create_app(engine: sa.Engine, config: WebhookConfig) -> Starlette:
    """The receiver app on `engine` (already migrated: `hostaway-pipeline db upgrade`)."""

    async def receive(request: Request) -> Response:
        header = request.headers.get("authorization")
        try:
            caller = await run_in_threadpool(_authenticate, engine, config, header)
        except sa.exc.SQLAlchemyError as exc:
            log.error("webhook not checked, answered 503 (warehouse: %s)", type(exc).__name__)
            return JSONResponse({"error": "warehouse unavailable"}, status_code=503)
        if caller is None:
            log.warning("webhook refused: credentials")
            return _unauthorized()
        try:
            body = await asyncio.wait_for(
                _read_capped(request, config.max_body_bytes), config.body_timeout_s
            )
        except TimeoutError:
            log.warning("webhook refused: body not received within %.0f s", config.body_timeout_s)
            return JSONResponse({"error": "body too slow"}, status_code=408)
        except _TooLarge:
            log.warning("webhook refused: body over %d bytes", config.max_body_bytes)
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            envelope = parse(body)
        except EnvelopeError as exc:
            log.warning("webhook refused: %s", exc)  # names fields, never values
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            outcome = await run_in_threadpool(_store, engine, caller, envelope)
        except sa.exc.SQLAlchemyError as exc:
            log.error("webhook not stored, answered 503 (warehouse: %s)", type(exc).__name__)
            return JSONResponse({"error": "warehouse unavailable"}, status_code=503)
        # object and event are names (envelope._NAME): nothing to escape; %r all the same.
        log.info("webhook %s: account %d %r %r id=%s", outcome, envelope.account_id,
                 envelope.object, envelope.event, envelope.entity_id)  # fmt: skip
        if outcome == "refused":
            return _unauthorized()
        if caller.account_id == LEGACY:
            log.warning("account %d: delivered with the deprecated shared credential; re-key it "
                        "(`webhooks register`)", envelope.account_id)  # fmt: skip
        return JSONResponse({"status": outcome}, status_code=200)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

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
    check_migrated(engine)
    return create_app(engine, config)


def check_migrated(engine: sa.Engine) -> None:
    """Refuse to start on a warehouse behind this version (the receiver migrates nothing: its role
    needs no DDL); a warehouse that cannot be reached now is left to /readyz and the 503s."""
    from hostaway_pipeline.settings import SettingsError
    from hostaway_pipeline.warehouse import db

    try:
        current = db.current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("warehouse not reachable at start-up (%s); answering 503 until it is",
                    type(exc).__name__)  # fmt: skip
        return
    if current != db.head_revision():
        raise SettingsError(
            f"the warehouse is at migration {current}, this version needs {db.head_revision()}: "
            "run `hostaway-pipeline db upgrade` (an operator step) before starting the receiver"
        )
