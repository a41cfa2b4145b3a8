"""HostawayClient: the one object the sync engine talks to, for one account."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hostaway_pipeline.catalog.spec import Pagination
from hostaway_pipeline.client import errors as e
from hostaway_pipeline.client.auth import TokenManager
from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.envelope import (
    Shape,
    check_envelope,
    check_list_envelope,
    shaped_envelope,
)
from hostaway_pipeline.client.http import Reply, Transport
from hostaway_pipeline.client.limiter import RateLimiter
from hostaway_pipeline.client.paging import PAGERS, Page
from hostaway_pipeline.client.ports import RateLimitStore, TokenStore
from hostaway_pipeline.client.stats import ClientStats

DEFAULT_LOGGER = "hostaway_pipeline.client"


class HostawayClient:
    """Authenticated, rate-limited, retrying access to one Hostaway account.

    Safe to share between the threads of a pool of `config.max_concurrency` workers. Tokens are
    shared with every other client of the process and, through `token_store`, of every process;
    the rate budget is shared through `rate_store`.
    """

    def __init__(
        self,
        account_id: int,
        client_secret: str,
        config: ClientConfig,
        token_store: TokenStore,
        rate_store: RateLimitStore,
        logger: logging.Logger | None = None,
    ) -> None:
        self.account_id = account_id
        self.config = config
        self.stats = ClientStats()
        log = logger or logging.getLogger(DEFAULT_LOGGER)
        limiter = RateLimiter(rate_store, config, account_id)
        self._transport = Transport(
            config, account_id, limiter, self.stats, log, self._sensitive_values
        )
        self._auth = TokenManager(
            account_id, client_secret, config, token_store, self._transport, self.stats
        )
        self._refresh = True  # see without_token_refresh

    def __repr__(self) -> str:  # never the secret
        return f"HostawayClient(account_id={self.account_id}, base_url={self.config.base_url!r})"

    def __enter__(self) -> HostawayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections (tokens stay cached for the next client)."""
        self._transport.close()

    @contextlib.contextmanager
    def without_token_refresh(self) -> Iterator[None]:
        """Within this block a refused token is not retired and refreshed: the refusal is raised
        at once. For re-checking an endpoint already known to refuse a working token, so that
        asking again never costs a new token."""
        self._refresh = False
        try:
            yield
        finally:
            self._refresh = True

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET `path` (e.g. "/listings/12") and return its validated success envelope."""
        return self._call("GET", path, params, check_envelope).value

    def fetch(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        shape: Shape = "list",
        require_id: bool = True,
    ) -> Page:
        """The one page of an unpaged endpoint: a list, a single object or a {code: value} map,
        as records (see `envelope.shaped_envelope`)."""
        reply = self._call("GET", path, params, shaped_envelope(shape, require_id))
        return Page(reply.value["result"], reply.request_id, None, 1)

    def write(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST/PUT/DELETE `path` with a JSON `body`; the validated success envelope.

        Same limiter, token handling, retry policy and request-id logging as reads, except that
        a POST is not retried after an ambiguous failure (see `Transport.request`).
        """
        if method not in ("POST", "PUT", "DELETE"):
            raise ValueError(f"write method must be POST, PUT or DELETE, not {method!r}")
        return self._call(
            method, path, None, check_envelope, json_body=body, idempotent=method != "POST"
        ).value

    def pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        pagination: Pagination = Pagination.OFFSET,
    ) -> Iterator[Page]:
        """Pages of a listing, paged by `pagination`'s strategy (client/paging.py `PAGERS`):
        offset/limit (listings, conversations, messages) or an `afterId` keyset (reservations;
        the consumer may stop early)."""
        pager = PAGERS.get(pagination)
        if pager is None:
            raise ValueError(f"{path}: {pagination} is not paged; fetch it in one request")
        return pager(
            self._fetch_page,
            path,
            params,
            page_size or self.config.page_size,
            self.config.max_pages,
            self._loop_error(path),
        )

    def _fetch_page(self, path: str, params: dict[str, Any]) -> tuple[dict[str, Any], str]:
        reply = self._call("GET", path, params, check_list_envelope)
        return reply.value, reply.request_id

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        parse: Callable[[Any], dict[str, Any]],
        json_body: Any = None,
        idempotent: bool = True,
    ) -> Reply[dict[str, Any]]:
        # Hostaway answers a stale, revoked or expired token with 403 (some proxies: 401). Retire
        # exactly that token, take whatever is current (maybe one another process just stored),
        # retry once; a second refusal is not about the token (a refused write was not applied).
        def send(token: str) -> Reply[dict[str, Any]]:
            return self._transport.request(
                method, path, parse, params=params, json_body=json_body, token=token,
                idempotent=idempotent,
            )  # fmt: skip

        token = self._auth.token()
        try:
            return send(token)
        except e.AuthError:
            if not self._refresh:
                raise
            self._auth.invalidate(token)
        token = self._auth.token()
        try:
            return send(token)
        except e.AuthError as again:
            raise e.AuthError(
                e.auth_message_api(self.account_id, path, again.status or 403),
                account_id=self.account_id,
                endpoint=path,
                request_id=again.request_id,
                status=again.status,
            ) from None

    def _loop_error(self, path: str) -> Callable[[str, str], Exception]:
        def build(request_id: str, why: str) -> Exception:
            return e.MalformedResponseError(
                f"account {self.account_id}: pagination loop at {path}: {why}; the API is not "
                f"paging as documented, report it with the request id {request_id or '(none)'}",
                account_id=self.account_id,
                endpoint=path,
                request_id=request_id or None,
            )

        return build

    def _sensitive_values(self) -> list[str]:
        return self._auth.sensitive_values()
