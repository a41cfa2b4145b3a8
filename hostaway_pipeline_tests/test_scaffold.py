"""The entity scaffold, end to end on a throwaway copy of the repository: one command writes the
spec, the sandbox endpoint and fields and the documented stub, regenerates the migration, both doc
tables and the asset-spec snapshot, and the copy's own tests then pass with the new entity synced
from its sandbox endpoint. The repository itself is never written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "scaffold_probes"  # a name no other test or entity uses

pytestmark = pytest.mark.slow


def _copy_of_the_repository(dest: Path) -> Path:
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, tracked.split("\0")):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest


def _run(copy: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run(
        [sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True, check=False,
        timeout=900,
    )  # fmt: skip


def test_the_scaffold_adds_an_entity_whose_files_and_tests_all_agree(
    tmp_path: Path, empty_pg_url: str
) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout (the copy is its tracked files)")
    copy = _copy_of_the_repository(tmp_path / "repo")
    done = _run(
        copy, "-m", "hostaway_pipeline.catalog.new", NAME, "--path", "/scaffoldProbes",
        "--area", "account", "--field", "listing_map_id:listingMapId:BIGINT",
        "--field", "title:title:STR", "--field", "sent_on:sentOn:DATETIME",
        "--database-url", empty_pg_url, "--root", str(copy),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    written = set(done.stdout.split())
    assert {
        "hostaway_pipeline/catalog/account.py",
        "hostaway_sandbox/catalog_account.py",
        "hostaway_sandbox/catalog_fields.py",
        "hostaway_pipeline/catalog/documented.py",
        "docs/CATALOG.md",
        "docs/HOSTAWAY_ENDPOINTS.md",
        "hostaway_pipeline_tests/defs/snapshots/asset_specs.json",
    } <= written
    assert any(w.startswith("hostaway_pipeline/warehouse/migrations/versions/") for w in written)
    assert (
        f'"hostaway/{NAME}"'
        in (copy / "hostaway_pipeline_tests/defs/snapshots/asset_specs.json").read_text()
    )

    lint = _run(
        copy, "-m", "ruff", "check", "--quiet", *sorted(w for w in written if w.endswith(".py"))
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    tests = _run(
        copy, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
        "hostaway_pipeline_tests/defs/test_asset_snapshot.py",
        "hostaway_pipeline_tests/test_catalog_doc.py",
        "hostaway_pipeline_tests/test_endpoints_doc.py",
        "hostaway_pipeline_tests/warehouse/test_catalog_schema.py",
        "hostaway_pipeline_tests/sandbox/test_catalog.py",
        "hostaway_pipeline_tests/sync/test_catalog_entities.py", "-k", f"{NAME} or not catalog_entities",
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    # The new entity was synced from its sandbox endpoint into both warehouses.
    assert f"mirrors_what_the_sandbox_serves[postgresql-{NAME}]" in tests.stdout
    assert f"mirrors_what_the_sandbox_serves[sqlite-{NAME}]" in tests.stdout

    # The repository is untouched.
    assert NAME not in (ROOT / "hostaway_pipeline/catalog/account.py").read_text()
    assert NAME not in (ROOT / "docs/CATALOG.md").read_text()
