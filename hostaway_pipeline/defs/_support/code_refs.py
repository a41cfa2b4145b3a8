"""Code references on the assets: "open source" links in the UI to where each asset is defined.

Local file references always; linked to the repository's web view when this checkout has an
`origin` remote that is an http(s) URL (or HOSTAWAY_GIT_URL / HOSTAWAY_GIT_REF are set), at the
checked-out commit. No placeholder URL is ever rendered.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _web_url(remote: str | None) -> str | None:
    """https://host/owner/repo from an https, ssh:// or scp-like ssh remote; None for anything
    else. Only scheme, host, port and path are kept: a remote's credentials
    (`https://user:token@host/...`), query and fragment never reach a link every UI user sees."""
    if not remote:
        return None
    if "://" not in remote and ":" in remote.split("/", 1)[0]:  # scp-like: [user@]host:path
        host, path = remote.split(":", 1)
        remote = f"https://{host.rsplit('@', 1)[-1]}/{path.lstrip('/')}"
    parts = urlsplit(remote)
    if parts.scheme == "ssh" and parts.hostname:
        parts = parts._replace(scheme="https", netloc=parts.hostname)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path.removesuffix(".git"), "", ""))


def repository() -> tuple[str, str] | None:
    """(web URL, git ref) of this checkout, or None when it cannot be linked."""
    url = _web_url(os.environ.get("HOSTAWAY_GIT_URL") or _git("remote", "get-url", "origin"))
    ref = os.environ.get("HOSTAWAY_GIT_REF") or _git("rev-parse", "HEAD")
    return (url, ref) if url and ref else None


def with_code_references(assets: Sequence[dg.AssetsDefinition]) -> Sequence[Any]:
    """The assets with references to their definitions (beta API in Dagster 1.13: pinned set)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        local = dg.with_source_code_references(list(assets))
        repo = repository()
        if repo is None:
            return local
        url, ref = repo
        return dg.link_code_references_to_git(
            assets_defs=local,
            git_url=url,
            git_branch=ref,
            file_path_mapping=dg.AnchorBasedFilePathMapping(
                local_file_anchor=PACKAGE, file_anchor_path_in_repository=PACKAGE.name
            ),
        )
