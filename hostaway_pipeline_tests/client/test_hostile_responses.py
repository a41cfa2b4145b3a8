"""Hostile response bodies over real HTTP: a typed error naming account and endpoint, or values
kept exactly; never an OverflowError, ValueError or RecursionError, never the body's text."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hostaway_pipeline.client import ClientConfig, HostawayClient
from hostaway_pipeline.client.errors import (
    BodyTooLargeError,
    DeadlineExceededError,
    HostawayError,
    MalformedResponseError,
    RequestError,
    ServerError,
)
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline.client.payloads import NumberLiteral
from hostaway_pipeline_tests.client.stub_api import envelope, stub_api

GUEST = "Gwendolyn Guestmarker +44 7700 900123"


def client(url: str, **config: Any) -> HostawayClient:
    cfg = ClientConfig(base_url=url, rate_limit_per_ip=10_000, rate_limit_per_account=10_000,
                       window_s=1.0, max_attempts=1, malformed_retries=0,
                       token_activation_delay_s=0, **config)  # fmt: skip
    return HostawayClient(
        4242, "stub-secret-value", cfg, MemoryTokenStore(), MemoryRateLimitStore()
    )


def page_error(body: Any, status: int = 200, **config: Any) -> HostawayError:
    with (
        stub_api(lambda path, query: (status, body)) as url,
        client(url, **config) as c,
        pytest.raises(HostawayError) as caught,
    ):
        list(c.pages("/listings"))
    err = caught.value
    assert err.account_id == 4242 and err.endpoint == "/listings" and err.request_id
    assert "account 4242" in str(err) and "/listings" in str(err)
    assert GUEST not in str(err) and "Guestmarker" not in repr(err.__dict__)
    return err


def raw(text: str) -> bytes:
    return text.encode()


@pytest.mark.parametrize(
    "count",
    ["1" + "0" * 309, '"²"', '"' + "9" * 5000 + '"', str(2**64)],
    ids=["10**309", "superscript-two", "5000-digit-string", "beyond-2**53"],
)
def test_an_impossible_count_is_a_typed_malformed_response(count: str) -> None:
    body = raw('{"status": "success", "result": [{"id": 1}], "count": ' + count + "}")
    err = page_error(body)
    assert isinstance(err, MalformedResponseError) and not err.retryable
    assert "'count'" in str(err)


def test_nesting_beyond_the_limit_is_a_typed_malformed_response() -> None:
    deep = "[" * 600 + "]" * 600
    body = raw('{"status": "success", "result": [{"id": 1, "x": ' + deep + '}], "count": 1}')
    err = page_error(body)
    assert isinstance(err, MalformedResponseError) and "nests deeper" in str(err)


def test_numbers_python_cannot_hold_are_kept_as_their_literal_text() -> None:
    record = '{"id": 1, "a": 1e400, "b": NaN, "c": -Infinity, "d": ' + "3" * 5000 + "}"
    body = raw('{"status": "success", "result": [' + record + '], "count": 1}')
    with stub_api(lambda path, query: (200, body)) as url, client(url) as c:
        (page,) = list(c.pages("/listings"))
    (rec,) = page.records
    assert rec["a"] == NumberLiteral("1e400") and rec["b"] == NumberLiteral("NaN")
    assert rec["c"] == NumberLiteral("-Infinity") and rec["d"] == NumberLiteral("3" * 5000)


@pytest.mark.parametrize("status", [404, 500, 200])
def test_html_error_pages_with_guest_data_are_described_never_quoted(status: int) -> None:
    page = f"<html><body><h1>Error</h1><p>Reservation of {GUEST} failed</p></body></html>"
    err = page_error(page.encode(), status=status)
    assert f"{len(page)} bytes" in str(err)
    assert isinstance(err, RequestError if status == 404 else (ServerError, MalformedResponseError))


def test_a_fail_envelope_is_not_quoted() -> None:
    err = page_error({"status": "fail", "message": f"Guest {GUEST} has no access"})
    assert isinstance(err, RequestError) and "not shown" in str(err)


def test_a_body_beyond_the_size_cap_is_refused_whatever_it_declares() -> None:
    records = [{"id": i, "name": "x" * 1000} for i in range(1, 50)]
    err = page_error(envelope(records, 49), max_body_bytes=10_000)
    assert isinstance(err, BodyTooLargeError) and not err.retryable
    assert "larger than 10000 bytes" in str(err)


@contextmanager
def raw_server(interval_s: float, declare_length: bool) -> Iterator[str]:
    """Answers the token endpoint at once, then every other request with an endless body of
    spaces, one chunk every `interval_s` (declaring a length of 1 MB, or no length at all)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    token = (b'{"token_type":"Bearer","expires_in":63072000,"access_token":"'
             + b"a" * 40 + b'"}')  # fmt: skip

    def serve(conn: socket.socket) -> None:
        with conn:
            request = conn.recv(65536)
            if b"accessTokens" in request:
                head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n"
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(token) + token)
                return
            length = b"Content-Length: 1000000\r\n" if declare_length else b""
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                         b"Content-Type: application/json\r\n" + length + b"\r\n")  # fmt: skip
            chunk = b" " if declare_length else b" " * 4096
            while not stop.is_set():
                try:
                    conn.sendall(chunk)
                except OSError:
                    return
                stop.wait(interval_s)

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_an_endless_body_with_no_declared_length_is_cut_at_the_size_cap() -> None:
    with (
        raw_server(0.001, declare_length=False) as url,
        client(url, max_body_bytes=200_000) as c,
        pytest.raises(BodyTooLargeError) as caught,
    ):
        c.get("/listings")
    assert caught.value.endpoint == "/listings" and "200000 bytes" in str(caught.value)


def test_a_server_dripping_its_answer_is_cut_at_the_request_deadline() -> None:
    with raw_server(0.05, declare_length=True) as url, client(url, request_deadline_s=1.5) as c:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            c.get("/listings")
        took = time.monotonic() - started
    assert caught.value.retryable and caught.value.endpoint == "/listings"
    assert "longer than 2 s" in str(caught.value)  # 1.5 s, shown rounded
    assert took < 15  # the read timeout (30 s) alone would never have ended it


def test_a_compressed_body_is_capped_by_its_decoded_size() -> None:
    """A gzip bomb: 40 MB of JSON in ~40 kB on the wire; the cap counts decoded bytes."""
    import gzip
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bomb = gzip.compress(json.dumps(envelope([{"id": 1, "x": " " * 40_000_000}], 1)).encode())
    small = gzip.compress(json.dumps(envelope([{"id": 1, "x": "é" * 1000}], 1)).encode())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(gzip.compress(b'{"token_type":"Bearer","expires_in":63072000,'
                                     b'"access_token":"' + b"t" * 40 + b'"}'))  # fmt: skip

        def do_GET(self) -> None:
            self._send(bomb if "bomb" in self.path else small)

        def _send(self, data: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with client(f"http://127.0.0.1:{server.server_address[1]}/v1") as c:
            assert c.get("/small")["result"][0]["x"] == "é" * 1000  # compressed bodies still work
            with pytest.raises(BodyTooLargeError):
                c.get("/bomb")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
