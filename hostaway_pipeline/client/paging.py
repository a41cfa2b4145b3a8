"""Pagination as generators of pages: offset/limit with `count`, and `afterId` keyset.

Pages are yielded one at a time so memory stays flat, and the consumer may stop early (deciding
that records are older than its cursor is the sync engine's business, not ours).

End of listing: an empty page, or `offset == count`, or a page shorter than requested, except when
`count` says more records remain: then the server capped the page size and we keep going (a short
page is only trusted as the end when `count` is absent or agrees). Loop guards raise
MalformedResponseError("pagination loop"): an offset page of ids already served, a keyset page
served twice in a row (the cursor did not advance), more offset pages than the first `count`
allows (10 % growth plus two pages) or keyset pages than three passes over it, or `max_pages`.

Changes while paging (pages are as the API serves them; consumers upsert by id):
- offset: rows inserted before the offset shift later pages, so a row can come twice; rows
  deleted before it shift them back, so a row can be skipped (the next sync sees it).
- keyset: `afterId` means "after that row's current position". In the default updatedOn DESC
  order a row updated after it was served moves behind the cursor and is not served again; one
  updated before it was served moves there too and waits for the next sync (its updatedOn is
  past the watermark); if the cursor row itself is updated, the listing resumes near the top and
  rows come twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hostaway_pipeline.catalog.spec import Pagination
from hostaway_pipeline.client.envelope import envelope_count


@dataclass(frozen=True)
class Page:
    """One page of records (each a dict with an int `id`), as the API returned them."""

    records: list[dict[str, Any]]
    request_id: str
    count: int | None  # the envelope's total of matching records, when present
    number: int  # 1-based page number within this listing


# (path, params) -> (validated list envelope, request id)
Fetch = Callable[[str, dict[str, Any]], tuple[dict[str, Any], str]]
# (request id, what went wrong) -> the error to raise
LoopError = Callable[[str, str], Exception]
COUNT_GROWTH = 1.1
# Passes over `count` rows a keyset listing may take: every update of a cursor row while we page
# starts another (partial) pass near the top.
KEYSET_PASSES = 3


def offset_pages(
    fetch: Fetch,
    path: str,
    params: Mapping[str, Any] | None,
    page_size: int,
    max_pages: int,
    loop_error: LoopError,
) -> Iterator[Page]:
    """Pages of an offset/limit listing, first to last."""
    query = dict(params or {})
    offset = int(query.pop("offset", 0))
    seen_pages: set[int] = set()  # one hash per page, not the ids: memory stays flat
    total, widest = 0, 0
    first_count: int | None = None
    for number in range(1, max_pages + 1):
        env, request_id = fetch(path, {**query, "limit": page_size, "offset": offset})
        records, count = env["result"], envelope_count(env)
        page_hash = hash(tuple(r["id"] for r in records))
        if records and page_hash in seen_pages:
            raise loop_error(request_id, f"page {number} (offset {offset}) repeats a served page")
        seen_pages.add(page_hash)
        yield Page(records, request_id, count, number)
        total += len(records)
        offset += len(records)
        widest = max(widest, len(records))
        # Reaching `count` ends the listing only if the page agrees with it: a server cannot have
        # served more rows than it says exist, so a smaller `count` is wrong, and trusting it
        # would end a full listing early (and soft-delete the rows it never reached).
        if _is_last(records, page_size, count, total) or (count is not None and offset == count):
            return
        if count is not None:
            first_count = count if first_count is None else first_count
            # Offsets always advance, so only a `count` that keeps growing can page forever.
            # Allow growth of 10 % plus two pages during one listing (new rows while we page).
            if number >= math.ceil(first_count * COUNT_GROWTH / widest) + 2:
                raise loop_error(request_id, f"{number} pages but count was {first_count}")
    raise loop_error("", f"more than {max_pages} pages")


def keyset_pages(
    fetch: Fetch,
    path: str,
    params: Mapping[str, Any] | None,
    page_size: int,
    max_pages: int,
    loop_error: LoopError,
) -> Iterator[Page]:
    """Pages of an `afterId` keyset listing: each next page starts after the last id served."""
    query = dict(params or {})
    query.pop("offset", None)  # deprecated, and ignored by Hostaway once afterId is set
    cursor = query.pop("afterId", None)
    # The keyset follows the active sort (default updatedOn DESC), so rows move while we page: a
    # cursor row that was updated sends the listing back near the top, and the pass that follows
    # can end a page on an earlier cursor again, changed or not (the rows in between shifted by
    # one). So neither a repeated cursor nor a repeated page proves a loop. What does: the same
    # page twice in a row (the server ignored afterId), or more pages than KEYSET_PASSES passes
    # over `count` rows (a server cycling between pages), or max_pages.
    previous: int | None = None
    total, widest = 0, 0
    first_count: int | None = None
    for number in range(1, max_pages + 1):
        page_query = {**query, "limit": page_size}
        if cursor is not None:
            page_query["afterId"] = cursor
        env, request_id = fetch(path, page_query)
        records, count = env["result"], envelope_count(env)
        page_print = hash(json.dumps(records, sort_keys=True, default=str))
        if records and page_print == previous:
            raise loop_error(request_id, f"cursor afterId={cursor} did not advance")
        previous = page_print
        yield Page(records, request_id, count, number)
        total += len(records)
        if _is_last(records, page_size, count, total):
            return
        cursor = records[-1]["id"]
        widest = max(widest, len(records))
        if count is not None:
            first_count = count if first_count is None else first_count
            if number >= math.ceil(first_count * KEYSET_PASSES / widest) + 2:
                raise loop_error(request_id, f"{number} pages but count was {first_count}")
    raise loop_error("", f"more than {max_pages} pages")


def _is_last(records: list[dict[str, Any]], page_size: int, count: int | None, total: int) -> bool:
    if not records:
        return True
    return len(records) < page_size and (count is None or total >= count)


Pager = Callable[[Fetch, str, "Mapping[str, Any] | None", int, int, LoopError], Iterator[Page]]

#: The paging strategy of each `Pagination` that pages (a `NONE` endpoint answers in one
#: response: `HostawayClient.fetch`). A new paging style is a new entry here, not a new method.
PAGERS: dict[Pagination, Pager] = {
    Pagination.OFFSET: offset_pages,
    Pagination.KEYSET: keyset_pages,
}
