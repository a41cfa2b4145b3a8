"""The catalog as a Markdown table (docs/CATALOG.md holds it; a test keeps the two equal).

python -m hostaway_pipeline.catalog.doc     # prints the table
"""

from __future__ import annotations

from hostaway_pipeline import catalog
from hostaway_pipeline.catalog.spec import Incremental, StreamSpec

_RULE = {
    Incremental.LATEST_ACTIVITY: "`latestActivityStart` filter",
    Incremental.NEWEST_FIRST: "newest first, stop early",
    Incremental.CHANGED_PARENTS: "changed parents only",
    Incremental.FULL_LISTING: "whole list",
}
_PAGING = {"offset": "offset", "keyset": "`afterId`", "none": "unpaged"}


def _row(s: StreamSpec) -> str:
    shape = "" if s.shape.value == "list" else f", {s.shape.value}"
    where = " (global, stored once)" if s.scope.value == "global" else ""
    if s.parent is not None and s.parent.standalone:
        where = f" per stored {s.parent.name}"
    listed = " (of listed parents)" if s.parent is not None and not s.parent.standalone else ""
    key = "+".join(s.key) if s.text_id else "id"
    # A parent without an asset of its own is synced by its child's step (conversations).
    owner = s if s.standalone else next(c for c in catalog.CATALOG if c.parent is s)
    step = owner.asset_name.removeprefix("hostaway__")
    return (
        f"| {s.name} | `{s.path}`{where} | {step} | {s.cadence.value} | "
        f"{_PAGING[s.pagination.value]}{shape} | {key} | {_RULE[s.incremental]}{listed} |"
    )


def markdown_table() -> str:
    head = "| entity | endpoint | step | cadence | paging, shape | key | incremental |\n"
    head += "|---|---|---|---|---|---|---|\n"
    return head + "\n".join(_row(s) for s in catalog.CATALOG) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
