"""Client configuration: limits, retry policy, timeouts and token margins, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def api_host(base_url: str) -> str:
    """The origin of `base_url` ("https://api.hostaway.com"): what a stored token belongs to.

    Scheme, host and port (default ports dropped, lower case); not the path, so the same server
    under another path prefix shares its tokens, while any other host, port or scheme does not.
    """
    parts = urlsplit(base_url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        raise ValueError(f"{base_url!r} is not an absolute http(s) URL")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS.get(scheme)) else f":{port}")


@dataclass(frozen=True)
class ClientConfig:
    """How one HostawayClient talks to the API (base_url e.g. "https://api.hostaway.com/v1").

    Limits default to Hostaway's documented ones (15 per 10 s per IP, 20 per 10 s per account).
    Requests are spaced `window_s / limit * (1 + safety_margin)` apart (at least
    `(window_s + min_slack_s) / limit`), so latency jitter never lets a sliding-window server
    count more than `limit` requests in one window.
    """

    # The fields of docs/CONTRACTS.md, in its order.
    base_url: str
    rate_limit_per_ip: int = 15
    rate_limit_per_account: int = 20
    window_s: float = 10.0
    safety_margin: float = 0.03
    max_attempts: int = 6  # per request, first try included
    backoff_base_s: float = 0.5  # exponential backoff with full jitter ...
    backoff_cap_s: float = 30.0  # ... capped here
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    page_size: int = 100
    max_concurrency: int = 4
    # Jitter is absolute (scheduling, sleep overshoot, server queueing), so the slack per window is
    # never below this: it only matters for short windows (3 % of 10 s is already 0.3 s).
    min_slack_s: float = 0.1
    # A Retry-After / X-RateLimit-Retry-After is honoured (never below this floor) ...
    retry_after_floor_s: float = 0.05
    # ... unless it asks for more than this: then RateLimitedError (retryable) hands the wait
    # to the scheduler instead of parking a worker for minutes.
    retry_after_max_s: float = 120.0
    # A 2xx whose body is not JSON or breaks the envelope is retried this many times (truncated
    # bodies from proxies are usually transient), then MalformedResponseError.
    malformed_retries: int = 2
    # Hostaway: a new token becomes valid about 1 s after it is issued.
    token_activation_delay_s: float = 1.0
    # Tokens expiring within this margin are treated as expired (capped at half their lifetime).
    token_expiry_margin_s: float = 86400.0
    # Hard bound on pages per paginated listing, whatever `count` says (a runaway-loop backstop).
    max_pages: int = 100_000
    user_agent: str = "hostaway-pipeline/0.1 (+python-requests)"
    # A response body larger than this is refused (BodyTooLargeError): a 100-record page is
    # well under 1 MB, so this only stops a broken or hostile server from filling memory.
    max_body_bytes: int = 32 * 1024 * 1024
    # One attempt (connect, headers and body) may take this long in total: a server dripping
    # bytes just faster than `read_timeout_s` cannot hold a worker forever.
    request_deadline_s: float = 120.0
    # The egress (source IP) requests leave from: the per-IP bucket is `ip:<egress_id>:<host>`.
    egress_id: str = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.rate_limit_per_ip <= 0 or self.rate_limit_per_account <= 0:
            raise ValueError("rate limits must be positive")
        if self.window_s <= 0 or self.safety_margin < 0 or self.min_slack_s < 0:
            raise ValueError("window_s must be positive, safety_margin and min_slack_s >= 0")
        if self.max_attempts < 1 or self.page_size < 1 or self.max_concurrency < 1:
            raise ValueError("max_attempts, page_size and max_concurrency must be at least 1")
        if self.max_body_bytes < 1 or self.request_deadline_s <= 0:
            raise ValueError("max_body_bytes and request_deadline_s must be positive")

    @property
    def api_host(self) -> str:
        """The origin tokens are stored under (see `api_host`)."""
        return api_host(self.base_url)

    @property
    def slack_s(self) -> float:
        """How much longer than `window_s` `limit` evenly spaced requests take."""
        return max(self.window_s * self.safety_margin, self.min_slack_s)

    @property
    def ip_interval_s(self) -> float:
        """Spacing between two requests from this host: (window + slack) / limit."""
        return (self.window_s + self.slack_s) / self.rate_limit_per_ip

    @property
    def account_interval_s(self) -> float:
        """Spacing between two requests for one account: (window + slack) / limit."""
        return (self.window_s + self.slack_s) / self.rate_limit_per_account
