"""`hostaway-pipeline ui` (what `./dev ui` runs) stops everything it started on SIGTERM and SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from hostaway_pipeline.accounts.repo import AccountRepo
from hostaway_pipeline.accounts.secrets import SecretBox
from hostaway_pipeline.warehouse import db
from hostaway_pipeline_tests.e2e.conftest import ARTIFACTS, BIN, ROOT, _free_port
from hostaway_pipeline_tests.e2e.processes import wait_for
from hostaway_pipeline_tests.helpers import dump_schema
from hostaway_pipeline_tests.support.checkout import dotenv_turn
from hostaway_pipeline_tests.support.http import CatchAll

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STOP_BOUND_S = 40.0  # the command's own grace (15 s) plus SIGKILL and a loaded 2-CPU machine


def _descendants(pid: int) -> dict[int, tuple[float, str]]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    found = {}
    for child in children:
        with contextlib.suppress(psutil.Error):
            found[child.pid] = (child.create_time(), " ".join(child.cmdline()[:5]))
    return found


def _alive(seen: dict[int, tuple[float, str]]) -> list[str]:
    alive = []
    for pid, (created, cmd) in seen.items():
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {cmd}")
    return alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ui_stops_dagster_dev_and_every_child_on_a_signal(sig: int, tmp_path: Path) -> None:
    port, sandbox_port = _free_port(), _free_port()
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "HOSTAWAY_HOME": str(tmp_path / "demo"),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / f"ui-{signal.Signals(sig).name}.log").open("wb")
    ui = subprocess.Popen(
        # Its own home: the checkout's .demo is the developer's, and both signals' tests may
        # run at once on two workers (they raced on one instance there).
        [str(BIN / "hostaway-pipeline"), "ui", "--port", str(port), "--sandbox-port",
         str(sandbox_port), "--home", str(tmp_path / "demo")],
        env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    seen: dict[int, tuple[float, str]] = {}
    try:

        def up() -> bool:
            seen.update(_descendants(ui.pid))
            try:
                return requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(up, 120, "the UI to answer /server_info")

        def all_started() -> bool:
            seen.update(_descendants(ui.pid))
            commands = " | ".join(cmd for _, cmd in seen.values())
            return all(
                part in commands for part in ("dagster._daemon", "dagster_webserver", "grpc")
            )

        wait_for(all_started, 90, "the daemon, webserver and code server processes")
        os.kill(ui.pid, sig)  # the command only, as a terminal or a supervisor would
        started = time.monotonic()
        ui.wait(timeout=STOP_BOUND_S)
        wait_for(lambda: not _alive(seen), STOP_BOUND_S, "every child to exit", every_s=0.2)
        took = time.monotonic() - started
        assert ui.returncode == 0
        assert took < STOP_BOUND_S
    finally:
        for pid in seen:  # a failed test must not leave a UI running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if ui.poll() is None:
            ui.kill()
        log.close()
    assert not _alive(seen)


SENSOR_TICKS = """{ sensorOrError(sensorSelector: {repositoryName: "__repository__",
  repositoryLocationName: "hostaway_pipeline", sensorName: "account_sensor"}) {
  ... on Sensor { sensorState { ticks(limit: 5) { status skipReason } } } } }"""


@pytest.mark.timeout(600)
def test_ui_ignores_a_production_env_file_in_the_checkout(
    prod_url: str, tmp_path: Path, secret_key: str
) -> None:
    """A production `.env` in the checkout (a common habit) reaches neither `dagster dev` nor its
    daemon and code server: the production warehouse stays byte-identical, nothing is sent to the
    production API, and the UI's account sensor reads the demo's own (empty) warehouse."""
    engine = db.create_engine(prod_url)
    db.upgrade(engine)
    repo = AccountRepo(engine, SecretBox(secret_key))
    repo.add(10001, "prod-secret-10001")  # an id the sandbox also has
    repo.add(777001, "prod-secret-777001")
    engine.dispose()
    before = dump_schema(prod_url)
    dotenv = ROOT / ".env"
    turn = dotenv_turn().acquire()  # released when the file is gone (finally, below)
    try:
        handle = dotenv.open("x")
    except FileExistsError:
        turn.lock.release()
        pytest.skip(f"{dotenv} exists; this test will not overwrite it")
    port, sandbox_port = _free_port(), _free_port()
    with CatchAll() as production_api, handle, turn:
        handle.write(
            f"HOSTAWAY_DATABASE_URL={prod_url}\nHOSTAWAY_SECRET_KEY={secret_key}\n"
            f"HOSTAWAY_API_URL={production_api.url}\nDAGSTER_HOME={tmp_path / 'prod_dagster'}\n"
        )
        handle.flush()
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "LANG": "C.UTF-8",
        }
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = (ARTIFACTS / "ui-dotenv.log").open("wb")
        ui = subprocess.Popen(
            [str(BIN / "hostaway-pipeline"), "ui", "--port", str(port),
             "--sandbox-port", str(sandbox_port), "--home", str(tmp_path / "demo")],
            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:

            def ticked() -> list[dict[str, str]] | None:
                try:
                    answer = requests.post(
                        f"http://127.0.0.1:{port}/graphql", json={"query": SENSOR_TICKS}, timeout=5
                    ).json()
                except (requests.RequestException, ValueError):
                    return None
                state = (answer.get("data") or {}).get("sensorOrError", {}).get("sensorState")
                ticks = (state or {}).get("ticks") or []
                # A tick is stored as STARTED while the code server evaluates it: wait for its end.
                return [t for t in ticks if t["status"] != "STARTED"] or None

            ticks = wait_for(ticked, 300, "a finished tick of the UI's account sensor", every_s=2)
        finally:
            os.killpg(ui.pid, signal.SIGTERM)
            try:
                ui.wait(timeout=STOP_BOUND_S)
            finally:
                dotenv.unlink()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(ui.pid, signal.SIGKILL)
                log.close()
        # The sensor saw the demo's empty warehouse, not production's two accounts.
        assert ticks[0]["status"] == "SKIPPED", ticks
        assert ticks[0]["skipReason"] == "no accounts registered", ticks
        assert production_api.requests == []
    assert dump_schema(prod_url) == before
    assert not (tmp_path / "prod_dagster").exists()
    text = (ARTIFACTS / "ui-dotenv.log").read_text(errors="replace")
    assert "Loaded environment variables from .env" not in text
    assert "prod-secret" not in text and secret_key not in text
