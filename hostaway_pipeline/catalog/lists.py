"""The declaration shortcut for whole lists (no parent): account-wide and global."""

from __future__ import annotations

from typing import Any

from hostaway_pipeline.catalog.spec import Cadence, Field, Incremental, Pagination, StreamSpec


def whole_list(
    name: str,
    path: str,
    *fields: Field,
    area: str,
    cadence: Cadence,
    description: str,
    **kw: Any,
) -> StreamSpec:
    """An entity read whole each time it is due (no server-side change filter exists)."""
    return StreamSpec(
        name=name, path=path, table=name, pagination=kw.pop("pagination", Pagination.NONE),
        incremental=Incremental.FULL_LISTING, fields=fields, area=area, cadence=cadence,
        description=description, **kw,
    )  # fmt: skip
