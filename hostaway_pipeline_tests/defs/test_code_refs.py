"""Code references: the UI's "open source" links never carry a git remote's credentials."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from hostaway_pipeline.defs._support.code_refs import _web_url
from hostaway_pipeline.settings import Settings

TOKEN = "ghp_s3cr3tT0ken"


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        (f"https://user:{TOKEN}@github.com/acme/pipeline.git", "https://github.com/acme/pipeline"),
        (f"https://{TOKEN}@github.com/acme/pipeline", "https://github.com/acme/pipeline"),
        (
            f"https://oauth2:{TOKEN}@git.example.com:8443/acme/p.git?x=1#f",
            "https://git.example.com:8443/acme/p",
        ),
        ("git@github.com:acme/pipeline.git", "https://github.com/acme/pipeline"),
        (f"ssh://git:{TOKEN}@github.com:22/acme/pipeline.git", "https://github.com/acme/pipeline"),
        ("/srv/git/pipeline.git", None),
        ("file:///srv/git/pipeline.git", None),
    ],
)
def test_web_url_keeps_only_scheme_host_and_path(remote: str, expected: str | None) -> None:
    assert _web_url(remote) == expected


def test_a_remote_with_credentials_never_reaches_asset_metadata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("HOSTAWAY_GIT_URL", f"https://ci-bot:{TOKEN}@github.com/acme/pipeline.git")
    monkeypatch.setenv("HOSTAWAY_GIT_REF", "0123abcd")
    monkeypatch.setenv("HOSTAWAY_HOME", str(tmp_path))
    from hostaway_pipeline.definitions import build_definitions

    defs = build_definitions(Settings.from_env())
    graph = defs.get_repository_def().asset_graph
    texts = []
    for key in graph.get_all_asset_keys():
        metadata = graph.get(key).metadata
        texts.append(json.dumps({k: str(v) for k, v in metadata.items()}))
    joined = "\n".join(texts)
    assert "https://github.com/acme/pipeline/tree/0123abcd/" in joined  # linked, without creds
    assert TOKEN not in joined and "ci-bot" not in joined
    assert isinstance(defs, dg.Definitions)
