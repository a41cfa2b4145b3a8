"""A tiny HTTP server for protocol breaks the sandbox cannot produce on purpose.

The sandbox is faithful: it never sends a wrong envelope, a record without an id, or a listing
that pages forever. This stub answers the token endpoint properly and every GET with whatever the
test's `respond(path, query)` returns, over real HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

STUB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdHViLXRva2VuIn0.c3R1Yi1zaWduYXR1cmUtdmFsdWU"
Respond = Callable[[str, dict[str, str]], tuple[int, Any]]


@contextmanager
def stub_api(respond: Respond) -> Iterator[str]:
    """Serve `respond` on 127.0.0.1; yield the base URL (".../v1")."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(
                200, {"token_type": "Bearer", "expires_in": 63072000, "access_token": STUB_TOKEN}
            )

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, body = respond(url.path.removeprefix("/v1"), query)
            self._send(status, body)

        def _send(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def envelope(records: list[Any], count: int | None = None, **extra: Any) -> dict[str, Any]:
    """A success envelope around `records`."""
    return {"status": "success", "result": records, "count": count, **extra}
