"""The pure parts of the policy: Retry-After parsing, backoff bounds, redaction, token margins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.errors import excerpt, redact
from hostaway_pipeline.client.retry import backoff_s, retry_after_seconds

CFG = ClientConfig("https://api.hostaway.com/v1")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"X-RateLimit-Retry-After": "7"}, 7.0),
        ({"Retry-After": "2", "X-RateLimit-Retry-After": "9"}, 9.0),  # the larger wins
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-4"}, 0.0),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    header = {"Retry-After": format_datetime(now + timedelta(seconds=30), usegmt=True)}
    assert retry_after_seconds(header, now=now.timestamp()) == pytest.approx(30.0)


def test_backoff_is_full_jitter_capped() -> None:
    assert backoff_s(CFG, 1, rand=lambda lo, hi: hi) == 0.5
    assert backoff_s(CFG, 4, rand=lambda lo, hi: hi) == 4.0
    assert backoff_s(CFG, 20, rand=lambda lo, hi: hi) == CFG.backoff_cap_s
    assert backoff_s(CFG, 3, rand=lambda lo, hi: lo) == 0.0


def test_redaction_hides_known_values_and_token_shapes() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVlLWhlcmU"
    text = (
        f'{{"access_token": "{jwt}", "client_secret": "abc123secret"}} '
        "Authorization: Bearer opaque-token-1 token=opaque-token-2 my-known-value"
    )
    clean = redact(text, ["my-known-value"])
    for leaked in (jwt, "abc123secret", "opaque-token-1", "opaque-token-2", "my-known-value"):
        assert leaked not in clean
    assert redact("Unauthorized: invalid or revoked token") == (
        "Unauthorized: invalid or revoked token"
    )


def test_excerpts_are_one_line_and_truncated_after_redaction() -> None:
    secret = "s" * 40
    body = ("x" * 190 + secret + "\n" * 3 + "y" * 500).encode()
    shown = excerpt(body, [secret])
    assert secret[:10] not in shown and "\n" not in shown
    assert len(shown) <= 203 and shown.endswith("...")


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ClientConfig("https://api.hostaway.com/v1", rate_limit_per_ip=0)
    with pytest.raises(ValueError):
        ClientConfig("https://api.hostaway.com/v1", max_attempts=0)
    assert ClientConfig("https://api.hostaway.com/v1/").base_url == "https://api.hostaway.com/v1"
