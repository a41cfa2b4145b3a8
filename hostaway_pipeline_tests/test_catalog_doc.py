"""docs/CATALOG.md lists the catalog as it is: the entity table is generated from the specs."""

from __future__ import annotations

from pathlib import Path

from hostaway_pipeline import catalog
from hostaway_pipeline.catalog.doc import markdown_table

DOC = Path(__file__).parents[1] / "docs" / "CATALOG.md"


def test_the_documented_entity_table_is_the_catalog() -> None:
    text = DOC.read_text()
    assert text.endswith(markdown_table()), (
        "docs/CATALOG.md is out of date: regenerate its table with "
        "`python -m hostaway_pipeline.catalog.doc`"
    )
    assert len(catalog.CATALOG) >= 30
