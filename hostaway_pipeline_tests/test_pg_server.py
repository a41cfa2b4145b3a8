"""The tests' choice of PostgreSQL, and the embedded cluster leaving nothing behind however it ends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from hostaway_pipeline_tests import pg_choice
from hostaway_pipeline_tests.pg_choice import PgChoiceError, choose
from hostaway_pipeline_tests.pg_server import PREFIX, EmbeddedPostgres, sweep_stale

ROOT = Path(__file__).resolve().parents[1]
# A child that starts a cluster, says where it is, and waits to be signalled.
CHILD = """
import json, os, sys, time
from hostaway_pipeline_tests.pg_server import EmbeddedPostgres
c = EmbeddedPostgres()
c.start()
print(json.dumps({"port": c.port, "workdir": str(c.workdir), "server": c._proc.pid}), flush=True)
while True:
    time.sleep(0.2)
"""


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, exited but not yet reaped, counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if not Path("/proc/self/stat").exists():  # no procfs (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        return ") Z" not in stat.read_text()
    except FileNotFoundError:
        return False


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed on return: nothing listens there


def test_a_configured_url_is_used_as_it_is_without_probing() -> None:
    url = f"postgresql+psycopg://someone@127.0.0.1:{_dead_port()}/elsewhere"
    choice = choose({"HOSTAWAY_TEST_DATABASE_URL": url})
    assert (choice.kind, choice.url, choice.database) == ("configured", url, "elsewhere")


def test_nothing_answering_locally_falls_back_to_the_embedded_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        pg_choice, "LOCAL_URL", f"postgresql+psycopg://root@127.0.0.1:{_dead_port()}/t"
    )
    choice = choose({})
    assert choice.kind == "embedded" and choice.url is None and choice.database == "t"
    assert "did not answer" in choice.why and "embedded cluster" in choice.describe()


def test_forced_local_with_nothing_answering_stops_the_run_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _dead_port()
    monkeypatch.setattr(pg_choice, "LOCAL_URL", f"postgresql+psycopg://root@127.0.0.1:{port}/t")
    with pytest.raises(PgChoiceError, match=f"127.0.0.1:{port}/t does not answer"):
        choose({"HOSTAWAY_TEST_POSTGRES": "local"})


def test_forced_embedded_keeps_the_configured_database_name() -> None:
    url = "postgresql+psycopg://root@127.0.0.1:5432/hostaway_test_x"
    choice = choose({"HOSTAWAY_TEST_POSTGRES": "embedded", "HOSTAWAY_TEST_DATABASE_URL": url})
    assert (choice.kind, choice.url, choice.database) == ("embedded", None, "hostaway_test_x")


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(PgChoiceError, match="expected one of auto, local, embedded"):
        choose({"HOSTAWAY_TEST_POSTGRES": "docker"})


def test_the_chosen_server_answers_the_probe(pg_url: str) -> None:
    assert pg_choice.probe(pg_url) is None


def test_a_stopped_cluster_leaves_no_process_port_or_directory() -> None:
    cluster = EmbeddedPostgres()
    try:
        cluster.start()
        with psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres") as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
        assert cluster._proc is not None
        server, workdir = cluster._proc.pid, cluster.workdir
    finally:
        cluster.stop()
    assert workdir is not None and not workdir.exists()
    assert not _alive(server)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres", connect_timeout=2)
    cluster.stop()  # again: nothing left to do, no error


def _start_child() -> tuple[subprocess.Popen[str], dict[str, object]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    started = json.loads(child.stdout.readline())
    assert Path(str(started["workdir"])).name.startswith(f"{PREFIX}{child.pid}-")
    return child, started


def test_sigterm_stops_the_cluster_and_removes_its_data() -> None:
    child, started = _start_child()
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=60)
    assert not _alive(int(str(started["server"])))
    assert not Path(str(started["workdir"])).exists()


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux-only")
def test_a_killed_session_takes_its_server_along_and_the_next_one_removes_its_data() -> None:
    child, started = _start_child()
    server, workdir = int(str(started["server"])), Path(str(started["workdir"]))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    _wait(lambda: not _alive(server), 60, "the orphaned server to shut down")
    assert workdir.exists()  # nobody was left to remove it ...
    assert workdir in sweep_stale()  # ... until the next session starts
    assert not workdir.exists()
