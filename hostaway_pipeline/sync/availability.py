"""Telling "this account may not use this entity" from "these credentials stopped working".

Hostaway answers a stale token and an endpoint the account is not entitled to (a feature not
enabled, a permission the API user lacks) with the same 403. The client already refreshed the
token once and was refused again; then one request to a core endpoint with that same fresh token
settles it (`refusal`):
- the core endpoint answers: only the entity is refused. It is recorded unavailable for the
  account (warehouse/availability.py) and EntityUnavailableError is raised; the other entities
  go on and the credentials are not flagged;
- the core endpoint is refused too: the credentials are the problem, the AuthError stands.
A 404 on a list endpoint that takes no parent id means the same as such a 403, without a probe.
Core entities (listings, reservations, conversations, messages) are never marked: a refusal
there is always the credentials'. A known-unavailable entity is re-checked (full syncs) only
after a core request proved the token good, and without a token refresh (`recheck`): however
often it is retried, it costs no new token.
"""

from __future__ import annotations

from hostaway_pipeline.catalog import CATALOG, Scope, StreamSpec
from hostaway_pipeline.client import HostawayClient
from hostaway_pipeline.client.envelope import TOKEN_PATH
from hostaway_pipeline.client.errors import AuthError, HostawayError, RequestError

# The request that proves a token good for the account: the first core list (listings).
PROBE = next(s for s in CATALOG if s.core and s.parent is None)


class EntityUnavailableError(HostawayError):
    """Hostaway refuses one entity to the account while its token works for the core entities.

    Attributes beyond HostawayError's: `entity`, the refused entity's name.
    """

    def __init__(self, message: str, *, entity: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.entity = entity


def may_be_unavailable(spec: StreamSpec) -> bool:
    """Whether a refusal of `spec` can be the entity's alone (not core, not a global list)."""
    return not spec.core and spec.scope is Scope.ACCOUNT


def token_works(client: HostawayClient) -> bool:
    """Whether the current token is accepted by a core endpoint (one request, no refresh)."""
    with client.without_token_refresh():
        try:
            client.get(PROBE.path, {"limit": 1})
        except AuthError:
            return False
    return True


def prove_token(client: HostawayClient) -> None:
    """One core request, refreshing the token if needed (AuthError: the credentials' problem)."""
    client.get(PROBE.path, {"limit": 1})


def refusal(
    client: HostawayClient, spec: StreamSpec, exc: HostawayError
) -> EntityUnavailableError | None:
    """The entity-level refusal `exc` is, or None when it is not one (raise `exc` as it is)."""
    if not may_be_unavailable(spec):
        return None
    aid = client.account_id
    if isinstance(exc, AuthError) and exc.endpoint != TOKEN_PATH:
        if not token_works(client):
            return None
        why = f"{exc.status or 403} at {exc.endpoint}, while the same token works for {PROBE.path}"
    elif isinstance(exc, RequestError) and exc.status == 404 and spec.parent is None:
        why = f"404 at {exc.endpoint}: the endpoint does not exist for this account"
    else:
        return None
    return EntityUnavailableError(
        f"account {aid}: Hostaway refuses {spec.name} to this account ({why}; request id "
        f"{exc.request_id or '(none)'}); it is skipped until a full sync or `hostaway-pipeline "
        f"accounts resync {aid}` retries it: enable the feature or the API user's permission in "
        f"Hostaway, or leave it out with `hostaway-pipeline accounts entities {aid} --only ...`",
        entity=spec.name, account_id=aid, endpoint=exc.endpoint, request_id=exc.request_id,
        status=exc.status or (403 if isinstance(exc, AuthError) else None), retryable=False,
    )  # fmt: skip
