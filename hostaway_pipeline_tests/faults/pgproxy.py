"""A TCP port in front of the local PostgreSQL that refuses, black-holes, forwards or cuts.

Lets a test point the warehouse URL at a database that is down (nothing listens), unreachable
(connections are accepted and never answered, as behind a firewall dropping packets), up, or
whose established connections all break at once.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections import Counter

import sqlalchemy as sa


class PgProxy:
    def __init__(self, target_url: str) -> None:
        url = sa.make_url(target_url)
        self.target = (url.host or "127.0.0.1", url.port or 5432)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nothing listens here until `serve`: connections are refused
        self.url = url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        self._listener: socket.socket | None = None
        self._mode = "refuse"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.accepted: Counter[str] = Counter()  # connections accepted, per mode

    def serve(self, mode: str) -> None:
        """Start listening: "forward" to PostgreSQL, "blackhole" (accept, never answer) or
        "reset" (accept and close at once: a server that is down behind a load balancer)."""
        self._mode = mode
        if self._listener is None:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
            threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> int:
        """Break every open connection (both sides see a reset); returns how many."""
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        return len(doomed) // 2

    def close(self) -> None:
        if self._listener is not None:
            # close() alone does not wake a thread blocked in accept(): it would go on accepting.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self.cut()

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.add(client)
                self.accepted[self._mode] += 1
            if self._mode == "reset":
                client.close()
                continue
            if self._mode == "forward":
                try:
                    upstream = socket.create_connection(self.target)
                except OSError:
                    client.close()
                    continue
                with self._lock:
                    self._sockets.add(upstream)
                threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        pair = [a, b]
        try:
            while True:
                ready, _, _ = select.select(pair, [], [], 1.0)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.close()
