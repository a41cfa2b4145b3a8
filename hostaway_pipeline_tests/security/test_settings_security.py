"""Settings: https required off loopback, and repr never shows a key or a password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from hostaway_pipeline.client.config import api_host
from hostaway_pipeline.client.ports import StoredToken
from hostaway_pipeline.settings import Settings, SettingsError


@pytest.mark.parametrize(
    "url",
    [
        "https://api.hostaway.com/v1",
        "http://127.0.0.1:8765/v1",
        "http://127.3.4.5/v1",
        "http://[::1]:9000/v1",
        "http://localhost:9000/v1",
    ],
)
def test_https_or_a_loopback_host_is_accepted(url: str) -> None:
    assert Settings.from_env({"HOSTAWAY_API_URL": url}).api_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.hostaway.com/v1",
        "http://10.0.0.5/v1",
        "http://localhost.attacker.example/v1",
        "http://127.0.0.1.nip.io/v1",
        "ftp://api.hostaway.com/v1",
        "https://user:pw@api.hostaway.com/v1",
        "https://api.hostaway.com:99999/v1",
    ],
)
def test_plain_http_off_loopback_and_odd_urls_are_a_typed_error_naming_the_variable(
    url: str,
) -> None:
    with pytest.raises(SettingsError, match="HOSTAWAY_API_URL") as err:
        Settings.from_env({"HOSTAWAY_API_URL": url})
    assert "user:pw" not in str(err.value)  # a password in the URL is never echoed


def test_repr_hides_the_keys_and_the_database_password() -> None:
    key, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings.from_env(
        {
            "HOSTAWAY_SECRET_KEY": key,
            "HOSTAWAY_SECRET_KEY_PREVIOUS": old,
            "HOSTAWAY_DATABASE_URL": "postgresql+psycopg://app:hunter2-pw@db.internal:5432/wh",
        }
    )
    for text in (repr(settings), str(settings), f"{settings}", repr([settings])):
        assert key not in text and old not in text and "hunter2-pw" not in text
        assert "db.internal" in text  # still useful to read
    assert settings.secret_key == key and settings.previous_secret_keys == (old,)


def test_stored_token_repr_hides_the_token() -> None:
    now = datetime.now(UTC)
    token = StoredToken("tok-9f8e7d6c5b", now, now + timedelta(days=1))
    for text in (repr(token), str(token), f"{token}", repr({"t": token})):
        assert "tok-9f8e7d6c5b" not in text
        assert "hidden" in text
    assert token == StoredToken("tok-9f8e7d6c5b", now, now + timedelta(days=1))


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api.hostaway.com/v1", "https://api.hostaway.com"),
        ("https://API.Hostaway.com:443/v1/", "https://api.hostaway.com"),
        ("http://127.0.0.1:8765/v1", "http://127.0.0.1:8765"),
        ("https://api.hostaway.com:8443/v1", "https://api.hostaway.com:8443"),
        ("http://[::1]:9/v1", "http://[::1]:9"),
    ],
)
def test_tokens_are_keyed_by_scheme_host_and_port(url: str, host: str) -> None:
    assert api_host(url) == host
