"""The egress worker's command line and config module (the process itself runs in
hostaway_pipeline_tests/multihost)."""

from __future__ import annotations

import shutil
import stat

import pytest

from hostaway_pipeline import cli
from hostaway_pipeline.egress.worker import celery_argv, write_config


def test_the_worker_listens_on_both_queues_in_one_option() -> None:
    argv = celery_argv("nat-eu-1", concurrency=3, max_tasks_per_child=20)
    # `-Q a -Q b` would keep only b (the dagster-celery trap): one option, comma-separated.
    assert argv.count("-Q") == 1
    assert argv[argv.index("-Q") + 1] == "dagster,egress-nat-eu-1"
    assert argv[argv.index("-c") + 1] == "3"
    assert argv[argv.index("--max-tasks-per-child") + 1] == "20"
    assert argv[argv.index("-I") + 1] == "hostaway_pipeline.definitions"  # children fork warm


def test_the_config_module_is_private_and_holds_the_launchers_settings() -> None:
    folder = write_config({"broker_url": "redis://:pw@redis:6379/0", "result_backend": None})
    try:
        path = folder / "dagster_celery_config.py"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == "broker_url = 'redis://:pw@redis:6379/0'\n"
    finally:
        shutil.rmtree(folder)


def test_a_bad_egress_id_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["worker", "--egress-id", "Not Valid"])
    assert "is not an egress id" in capsys.readouterr().err
