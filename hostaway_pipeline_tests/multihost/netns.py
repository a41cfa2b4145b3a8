"""Network namespaces as hosts: one bridge, each namespace its own address on it.

`ip netns` needs root (and a kernel that allows it: some containers refuse). Each namespace
sees only its own interfaces; the bridge lives in the first ("server") namespace, so nothing is
added to the machine's own network. Unix sockets (PostgreSQL, Redis) are files, reachable from
every namespace.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time

SUBNET = "10.201.0"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"hwprobe{os.getpid()}"
    made = _ip("netns", "add", probe)
    if made.returncode != 0:
        return f"`ip netns add` failed here: {made.stderr.strip()[:200]}"
    _ip("netns", "del", probe)
    return None


class Hosts:
    """A server namespace at SUBNET.1 and client namespaces at SUBNET.2, .3, ..."""

    def __init__(self, clients: int) -> None:
        tag = os.getpid()
        self.server = f"hwsrv{tag}"
        self.clients = [f"hwc{i}x{tag}" for i in range(1, clients + 1)]
        self.address = {self.server: f"{SUBNET}.1"} | {
            ns: f"{SUBNET}.{i + 2}" for i, ns in enumerate(self.clients)
        }

    def _run(self, *args: str) -> None:
        done = _ip(*args)
        if done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")

    def create(self) -> Hosts:
        for ns in [self.server, *self.clients]:
            self._run("netns", "add", ns)
            self._run("-n", ns, "link", "set", "lo", "up")
        self._run("-n", self.server, "link", "add", "br0", "type", "bridge")
        self._run("-n", self.server, "addr", "add", f"{self.address[self.server]}/24", "dev", "br0")
        self._run("-n", self.server, "link", "set", "br0", "up")
        for i, ns in enumerate(self.clients, start=1):
            port = f"port{i}"
            self._run(
                "-n", self.server, "link", "add", port, "type", "veth",
                "peer", "name", "eth0", "netns", ns,
            )  # fmt: skip
            self._run("-n", self.server, "link", "set", port, "master", "br0")
            self._run("-n", self.server, "link", "set", port, "up")
            self._run("-n", ns, "addr", "add", f"{self.address[ns]}/24", "dev", "eth0")
            self._run("-n", ns, "link", "set", "eth0", "up")
        return self

    def argv(self, ns: str, command: list[str]) -> list[str]:
        """`command` run inside namespace `ns` (ip netns exec replaces itself with it)."""
        return ["ip", "netns", "exec", ns, *command]

    def pids(self, ns: str) -> list[int]:
        """Every process in the namespace."""
        done = _ip("netns", "pids", ns)
        return [int(p) for p in done.stdout.split()]

    def kill_all(self, ns: str) -> list[int]:
        """SIGKILL every process in the namespace (a host lost at once); the pids killed."""
        killed = self.pids(ns)
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return killed

    def destroy(self) -> None:
        for ns in [*self.clients, self.server]:
            self.kill_all(ns)
        deadline = time.monotonic() + 10
        while any(self.pids(ns) for ns in [*self.clients, self.server]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for ns in [*self.clients, self.server]:
            _ip("netns", "del", ns)
