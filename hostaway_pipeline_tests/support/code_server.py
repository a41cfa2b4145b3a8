"""The deployments' code server, as production runs it (docs/PRODUCTION.md, 5.): `dagster
code-server start` on a Unix socket in the deployment's folder, and a workspace.yaml made from
deploy/workspace.code-server.yaml pointing there. The webserver and the daemon connect to it
instead of each starting one (the daemon's restarted every 60 s)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from dagster._grpc.client import DagsterGrpcClient

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def workspace(folder: Path) -> tuple[Path, list[str]]:
    """`folder`/workspace.yaml for a code server on `folder`/code.sock, and that server's command."""
    socket_path = str(folder / "code.sock")
    config = yaml.safe_load((ROOT / "deploy" / "workspace.code-server.yaml").read_text())
    (served,) = [location["grpc_server"] for location in config["load_from"]]
    served.pop("host"), served.pop("port")
    served["socket"] = socket_path
    (folder / "workspace.yaml").write_text(yaml.safe_dump(config))
    command = [str(BIN / "dagster"), "code-server", "start", "-s", socket_path,
               "-m", "hostaway_pipeline.definitions", "-d", str(folder),
               "--location-name", served["location_name"]]  # fmt: skip
    return folder / "workspace.yaml", command


def answers(folder: Path) -> bool:
    """Whether the code server of `folder` answers on its socket yet."""
    try:
        DagsterGrpcClient(socket=str(folder / "code.sock")).ping("up")
    except Exception:  # not listening yet
        return False
    return True
