"""`SandboxServer`: the local Hostaway API over real HTTP (stdlib ThreadingHTTPServer)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .catalog import Endpoint
from .data import SeedSpec
from .faults import FaultConfig
from .handlers import Handler
from .limits import RateLimiter
from .state import SandboxState
from .stats import Stats
from .webhooks import WebhookHub

Hook = Callable[[str, str, dict[str, str], "int | None"], None]


class Hooks:
    """Test hooks. `before_response(method, path, query, account_id)` runs before each API
    response is built (after faults, rate limits and auth), e.g. to mutate data between pages."""

    def __init__(self) -> None:
        self.before_response: Hook | None = None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[Handler]) -> None:
        super().__init__(address, handler)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (killed, timed out) is normal here, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_open_sockets(self) -> None:
        """Hang up idle keep-alive connections so their handler threads end."""
        with self.sockets_lock:
            for sock in list(self.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.open_sockets.clear()


class SandboxServer:
    """A seeded, faithful local Hostaway API. Use as a context manager or `start()`/`stop()`."""

    def __init__(
        self,
        seed: SeedSpec | None = None,
        rate_limit_per_ip: int | None = 15,
        rate_limit_per_account: int | None = 20,
        window_s: float = 10.0,
        retry_after: bool = False,
        latency_ms: tuple[float, float] = (0, 0),
        token_activation_delay_s: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        allow_remote_admin: bool = False,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.spec = seed or SeedSpec()
        # Token activation and rate windows read `clock` (monotonic seconds); tests of those
        # windows pass a manual one so that they hold on a loaded machine.
        self.clock = clock
        self.state = SandboxState(self.spec, token_activation_delay_s, clock)
        self.limiter = RateLimiter(rate_limit_per_ip, rate_limit_per_account, window_s, clock)
        self.faults = FaultConfig(latency_ms=(float(latency_ms[0]), float(latency_ms[1])))
        self.stats = Stats()
        self.hooks = Hooks()
        self.webhooks = WebhookHub()  # unified webhooks: registrations and deliveries
        self.state.on_change = self.webhooks.emit
        self.retry_after = retry_after
        self.host = host
        self.port = port
        # Admin endpoints (secrets, mutations) answer loopback clients only unless this is set.
        self.allow_remote_admin = allow_remote_admin
        # (certificate file, key file): serve https, for clients on other hosts (the client
        # accepts plain http only on loopback); tests trust the certificate via REQUESTS_CA_BUNDLE.
        self.tls = tls
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port` (`https` with `tls`; admin endpoints live under `/_sandbox/`)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL, `http://host:port/v1`."""
        return self.base_url + "/v1"

    def call_hook(
        self, method: str, path: str, query: dict[str, str], account_id: int | None
    ) -> None:
        """Run `hooks.before_response` when set."""
        hook = self.hooks.before_response
        if hook is not None:
            hook(method, path, query, account_id)

    def register_endpoint(self, endpoint: Endpoint) -> None:
        """Serve one more read endpoint from now on (see `catalog.Endpoint`)."""
        self.state.register_endpoint(endpoint)

    def start(self) -> SandboxServer:
        """Bind and serve in a background thread; `port=0` picks a free port."""
        if self._httpd is not None:
            return self
        handler = type("BoundHandler", (Handler,), {"sandbox": self})
        self.stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            # The handshake happens in the connection's own thread, not in the accept loop.
            self._httpd.socket = context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.name = f"hostaway-sandbox-{self.port}"
        self._thread.start()
        self.webhooks.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping fault handlers and close the socket."""
        self.stopping.set()
        self.webhooks.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.close_open_sockets()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r}, accounts={self.state.account_ids()!r})"

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary: URL, accounts with secrets, limits."""
        return {
            "url": self.url,
            "accounts": {str(k): v for k, v in self.state.tokens.secrets_map().items()},
            "rate_limit_per_ip": self.limiter.per_ip,
            "rate_limit_per_account": self.limiter.per_account,
            "window_s": self.limiter.window_s,
        }
