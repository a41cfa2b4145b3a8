"""docs/HOSTAWAY_ENDPOINTS.md's per-entity table is the catalog checked against Hostaway's docs:
generated from the specs and `catalog/documented.py`, with the pipeline's paging and params
held to what the docs say, and the sandbox paging each entity as the catalog does."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostaway_pipeline import catalog
from hostaway_pipeline.catalog import StreamSpec
from hostaway_pipeline.catalog.documented import (
    DOCUMENTED,
    markdown_table,
    pipeline_paging,
    sent_params,
)
from hostaway_sandbox.catalog_endpoints import default_endpoints

DOC = Path(__file__).parents[1] / "docs" / "HOSTAWAY_ENDPOINTS.md"


def test_the_documented_endpoint_table_is_the_catalog() -> None:
    assert set(DOCUMENTED) == {s.name for s in catalog.CATALOG}, "one row per catalog entity"
    assert DOC.read_text().endswith(markdown_table()), (
        "docs/HOSTAWAY_ENDPOINTS.md is out of date: regenerate its last table with "
        "`python -m hostaway_pipeline.catalog.documented`"
    )


@pytest.mark.parametrize("spec", catalog.CATALOG, ids=lambda s: s.name)
def test_the_pipeline_pages_as_documented_and_sends_only_documented_params(
    spec: StreamSpec,
) -> None:
    doc = DOCUMENTED[spec.name]
    assert pipeline_paging(spec) == doc.paging, f"{spec.name}: the docs page it {doc.paging}"
    undocumented = set(sent_params(spec)) - set(doc.params)
    assert not undocumented, f"{spec.name} sends params its doc file does not list"


def test_the_sandbox_pages_every_catalog_entity_as_the_catalog_does() -> None:
    served = {e.name: e for e in default_endpoints()}
    for spec in catalog.CATALOG:
        if spec.name in served:  # the four core entities have handlers of their own
            want = "offset" if spec.pagination is catalog.Pagination.OFFSET else "none"
            assert served[spec.name].paging == want, spec.name
            assert served[spec.name].path == f"/v1{spec.path}".replace("{parent_id}", "{id}")
