"""Unified-webhook registrations through the Hostaway API: list, register (idempotent), remove.

Endpoints (official docs, `source/includes/_webhook_unifiedWebhook*.md` in Hostaway/api):
`GET|POST /v1/webhooks/unifiedWebhooks`, `GET|PUT|DELETE /v1/webhooks/unifiedWebhooks/{id}`, a
JSON body `{isEnabled, url, login, password, alertingEmailAddress}`, the object (with `id`) in
`result`. A registration is identified by its URL: `register` updates the one already pointing at
the URL instead of adding a second (which would double every delivery).

A POST that failed ambiguously (timeout, dropped connection, 5xx, garbled answer) may have
created the webhook, so it is never blindly repeated: the registrations are listed again and the
one with the URL adopted; only if none exists is the POST sent once more. Login and password are
never logged or returned in a message; `Hook.line` shows whether Basic auth is set, not its values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hostaway_pipeline.client import errors as e
from hostaway_pipeline.client.client import HostawayClient
from hostaway_pipeline.client.envelope import is_record_id
from hostaway_pipeline.settings import SettingsError
from hostaway_pipeline.webhooks.config import check_url
from hostaway_pipeline.webhooks.credentials import derive, new_key_id
from hostaway_pipeline.webhooks.store import registrations as state

HOOKS_PATH = "/webhooks/unifiedWebhooks"
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
AMBIGUOUS = (e.ServerError, e.MalformedResponseError)  # the write may have been applied


class RegistrationError(Exception):
    """A registration could not be made, listed or removed; the message names the account."""


@dataclass(frozen=True)
class Hook:
    """One unified webhook as Hostaway lists it (credentials kept out of repr)."""

    id: int
    url: str
    enabled: bool
    login: str | None = field(repr=False)
    password: str | None = field(repr=False)
    alerting_email: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, account_id: int, obj: Any) -> Hook:
        if not isinstance(obj, Mapping) or not is_record_id(obj.get("id")):
            raise RegistrationError(
                f"account {account_id}: Hostaway listed a unified webhook without an integer "
                "id; the API changed: report it"
            )
        url = obj.get("url")

        def text(key: str) -> str | None:
            value = obj.get(key)
            return value if isinstance(value, str) and value else None

        return cls(int(obj["id"]), url if isinstance(url, str) else "",
                   bool(obj.get("isEnabled")) and str(obj.get("isEnabled")) not in ("0", "false"),
                   text("login"), text("password"), text("alertingEmailAddress"))  # fmt: skip

    def line(self, account_id: int, action: str = "") -> str:
        """One line for the CLI: never the login or the password."""
        auth = "basic" if self.login or self.password else "none"
        enabled = "yes" if self.enabled else "no"
        head = f"account {account_id}: webhook {self.id} url={self.url} enabled={enabled}"
        return f"{head} auth={auth}" + (f" ({action})" if action else "")


def list_hooks(client: HostawayClient) -> list[Hook]:
    """The account's unified webhooks."""
    result = client.get(HOOKS_PATH).get("result")
    if not isinstance(result, list):
        raise RegistrationError(
            f"account {client.account_id}: Hostaway's webhook list is not a list; the API "
            "changed: report it"
        )
    return [Hook.parse(client.account_id, obj) for obj in result]


def _at(client: HostawayClient, url: str) -> list[Hook]:
    return [h for h in list_hooks(client) if h.url == url]


def _body(url: str, login: str, password: str, alerting: str | None) -> dict[str, Any]:
    return {"isEnabled": 1, "url": url, "login": login, "password": password,
            "alertingEmailAddress": alerting}  # fmt: skip


def _written(client: HostawayClient, env: dict[str, Any]) -> Hook:
    return Hook.parse(client.account_id, env.get("result"))


def register(client: HostawayClient, url: str, login: str, password: str) -> tuple[Hook, str]:
    """Make `url` an enabled webhook with these credentials: (the hook, created|updated|unchanged).

    Idempotent: a webhook already at `url` is kept when it matches, else updated in place.
    """
    try:
        check_url(url)
    except SettingsError as exc:
        raise RegistrationError(f"account {client.account_id}: {exc}") from None
    found = _at(client, url)
    if found:
        return _update(client, found[0], url, login, password)
    try:
        return _written(
            client, client.write("POST", HOOKS_PATH, _body(url, login, password, None))
        ), CREATED
    except AMBIGUOUS:
        pass  # it may exist now: look before posting again
    found = _at(client, url)
    if found:
        return _update(client, found[0], url, login, password, adopted=True)
    env = client.write("POST", HOOKS_PATH, _body(url, login, password, None))
    return _written(client, env), CREATED


def register_account(
    engine: sa.Engine,
    client: HostawayClient,
    url: str,
    secret: str,
    *,
    rekey: bool,
    now: datetime | None = None,
) -> tuple[Hook, str]:
    """Register the account's webhook at `url` with its own derived credential; recorded.

    `rekey` (the CLI): always a new key id, so the old credential stops working once Hostaway
    holds the new one. Otherwise (the sensor) a key id already being installed is reused, so a
    retried registration converges. The new key id is accepted by the receiver from before the
    write (a delivery racing the write is not refused) and is the only one after it.
    """
    aid = client.account_id
    known = state.registrations(engine).get(aid)
    key_id = known.pending_key_id if known is not None and not rekey else None
    key_id = key_id or new_key_id()
    state.begin_keying(engine, aid, url, key_id)
    cred = derive(secret, aid, key_id)
    hook, action = register(client, url, cred.login, cred.password)  # failures: the caller records
    state.record_registered(engine, aid, hook.id, hook.url, now=now, key_id=key_id)
    return hook, action


def _update(
    client: HostawayClient, hook: Hook, url: str, login: str, password: str, adopted: bool = False
) -> tuple[Hook, str]:
    if hook.enabled and hook.login == login and hook.password == password:
        return hook, CREATED if adopted else UNCHANGED
    body = _body(url, login, password, hook.alerting_email)
    return _written(client, client.write("PUT", f"{HOOKS_PATH}/{hook.id}", body)), (
        CREATED if adopted else UPDATED
    )


def remove(
    client: HostawayClient, *, url: str | None = None, webhook_id: int | None = None
) -> list[Hook]:
    """Delete the webhook `webhook_id`, or every webhook at `url`; the hooks deleted."""
    if (url is None) == (webhook_id is None):
        raise ValueError("give exactly one of url, webhook_id")
    hooks = list_hooks(client)
    doomed = [h for h in hooks if (h.id == webhook_id if url is None else h.url == url)]
    if not doomed:
        what = f"webhook {webhook_id}" if url is None else f"a webhook at {url}"
        raise RegistrationError(
            f"account {client.account_id}: no {what}; see `hostaway-pipeline webhooks list "
            f"{client.account_id}`"
        )
    for hook in doomed:
        try:
            client.write("DELETE", f"{HOOKS_PATH}/{hook.id}")
        except e.RequestError as err:
            if err.status != 404:  # 404: already gone (a retried DELETE), which is the goal
                raise
    return doomed
