"""Pagination over real HTTP: every record exactly once, early stop, and loop guards."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from hostaway_pipeline.catalog.spec import Pagination
from hostaway_pipeline.client import HostawayClient, Page
from hostaway_pipeline.client.errors import MalformedResponseError
from hostaway_pipeline.client.memory import MemoryRateLimitStore, MemoryTokenStore
from hostaway_pipeline_tests.client.conftest import MakeClient, fast_config
from hostaway_pipeline_tests.client.stub_api import envelope, stub_api


def ids_of(pages: list[Page]) -> list[int]:
    return [r["id"] for p in pages for r in p.records]


def test_offset_paging_returns_every_listing_and_conversation_once(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(page_size=3)
    aid = client.account_id
    pages = list(client.pages("/listings"))
    assert [len(p.records) for p in pages] == [3, 3, 1]
    assert [p.number for p in pages] == [1, 2, 3]
    assert all(p.count == 7 and len(p.request_id) == 32 for p in pages)
    assert sorted(ids_of(pages)) == sorted(r["id"] for r in sandbox.state.listings(aid))

    conversations = ids_of(list(client.pages("/conversations")))
    assert sorted(conversations) == sorted(c["id"] for c in sandbox.state.conversations(aid))
    assert len(conversations) == len(set(conversations))

    conv_id = conversations[0]
    messages = ids_of(list(client.pages(f"/conversations/{conv_id}/messages", None, 2)))
    expected = [m["id"] for m in sandbox.state.messages(aid) if m["conversationId"] == conv_id]
    assert sorted(messages) == sorted(expected)


def test_offset_paging_sees_each_listing_once_while_listings_change(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(page_size=3)
    aid = client.account_id
    first = sorted(r["id"] for r in sandbox.state.listings(aid))
    calls = Counter[str]()

    def mutate(method: str, path: str, query: dict[str, str], account_id: int | None) -> None:
        calls[path] += 1
        if path == "/v1/listings" and calls[path] == 2:  # between page 1 and page 2
            sandbox.state.update_listing(aid, first[0], name="Renamed while paging")
            sandbox.state.update_listing(aid, first[5], price=999)
            sandbox.state.add_listing(aid)

    sandbox.hooks.before_response = mutate
    seen = ids_of(list(client.pages("/listings")))
    assert len(seen) == len(set(seen)) == 8
    assert sorted(seen) == sorted(r["id"] for r in sandbox.state.listings(aid))


def test_keyset_paging_returns_every_reservation_once_following_after_id(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(page_size=10)
    aid = client.account_id
    pages = list(client.pages("/reservations", pagination=Pagination.KEYSET))
    assert [len(p.records) for p in pages] == [10, 10, 10, 5]
    seen = ids_of(pages)
    assert sorted(seen) == sorted(r["id"] for r in sandbox.state.reservations(aid))
    sent = [r.query.get("afterId") for r in sandbox.stats.log if r.path == "/v1/reservations"]
    assert sent == [None] + [str(p.records[-1]["id"]) for p in pages[:-1]]


def test_keyset_paging_serves_no_reservation_twice_while_reservations_change(
    sandbox: Any, make_client: MakeClient
) -> None:
    """Default order is updatedOn DESC: a reservation updated after it was served moves to the
    top, behind the cursor, and must not come back; untouched ones are all served once."""
    client = make_client(page_size=10)
    aid = client.account_id
    served: list[int] = []
    changed: set[int] = set()
    calls = Counter[str]()

    def mutate(method: str, path: str, query: dict[str, str], account_id: int | None) -> None:
        calls[path] += 1
        if path == "/v1/reservations" and calls[path] in (2, 3):
            # Served rows, never the cursor row (the last of a page).
            early, other = served[calls[path]], served[calls[path] + 3]
            sandbox.state.update_reservation(aid, early, guestName="Changed Guest")
            sandbox.state.cancel_reservation(aid, other)
            changed.update({early, other, sandbox.state.add_reservation(aid)["id"]})

    sandbox.hooks.before_response = mutate
    for page in client.pages("/reservations", pagination=Pagination.KEYSET):
        served.extend(r["id"] for r in page.records)
    assert len(served) == len(set(served))
    everything = {r["id"] for r in sandbox.state.reservations(aid)}
    assert everything - changed <= set(served)


def test_keyset_paging_in_a_stable_order_serves_all_despite_updates(
    sandbox: Any, make_client: MakeClient
) -> None:
    client = make_client(page_size=7)
    aid = client.account_id
    ids = [r["id"] for r in sandbox.state.reservations(aid)]

    def mutate(method: str, path: str, query: dict[str, str], account_id: int | None) -> None:
        if path == "/v1/reservations" and "afterId" in query:
            for rid in ids[:: len(ids) // 5]:
                sandbox.state.update_reservation(aid, rid, guestName="Touched")

    sandbox.hooks.before_response = mutate
    seen = ids_of(
        list(
            client.pages(
                "/reservations", {"sortOrder": "arrivalDate"}, pagination=Pagination.KEYSET
            )
        )
    )
    assert sorted(seen) == sorted(ids)


def test_consumer_may_stop_after_the_first_page(sandbox: Any, make_client: MakeClient) -> None:
    client = make_client(page_size=5)
    for page in client.pages("/reservations", pagination=Pagination.KEYSET):
        assert len(page.records) == 5
        break
    assert sandbox.stats.count(path_prefix="/v1/reservations") == 1


def stub_client(url: str, **overrides: Any) -> HostawayClient:
    cfg = fast_config(url, token_activation_delay_s=0, rate_limit_per_ip=1000, **overrides)
    return HostawayClient(1, "stub-secret-value", cfg, MemoryTokenStore(), MemoryRateLimitStore())


def test_a_short_page_is_not_the_end_while_count_says_more() -> None:
    """A server that caps the page size below our limit still yields every record."""
    rows = [{"id": i} for i in range(1, 8)]

    def capped(path: str, q: dict[str, str]) -> tuple[int, Any]:
        off = int(q["offset"])
        return 200, envelope(rows[off : off + 3], count=len(rows))

    with stub_api(capped) as url:
        pages = list(stub_client(url, page_size=5).pages("/listings"))
    assert ids_of(pages) == list(range(1, 8))


def test_a_server_ignoring_offset_is_a_pagination_loop() -> None:
    with stub_api(lambda p, q: (200, envelope([{"id": 1}, {"id": 2}], count=50))) as url:
        client = stub_client(url, page_size=2)
        with pytest.raises(MalformedResponseError, match="pagination loop at /listings"):
            list(client.pages("/listings"))
        assert client.stats.requests == 3  # token + 2 pages


def test_a_server_ignoring_after_id_is_a_pagination_loop() -> None:
    with (
        stub_api(lambda p, q: (200, envelope([{"id": 1}, {"id": 2}]))) as url,
        pytest.raises(MalformedResponseError, match="did not advance"),
    ):
        list(stub_client(url, page_size=2).pages("/reservations", pagination=Pagination.KEYSET))


def test_a_cursor_row_that_moved_and_comes_back_is_not_a_loop() -> None:
    """The keyset follows a mutable sort (updatedOn DESC): a row updated while we page moves, and
    a later page can end on it again. Changed, it is progress; unchanged, it is a loop. (A fault
    campaign hit this against the sandbox: "cursor afterId=30000017 did not advance".)"""
    served = Counter[str]()

    def moving(path: str, q: dict[str, str]) -> tuple[int, Any]:
        after = q.get("afterId")
        served[str(after)] += 1
        if after is None:
            return 200, envelope([{"id": 1}, {"id": 2, "numberOfGuests": 1}])
        if served[after] == 1:  # row 2 was updated: it now sorts after row 3
            return 200, envelope([{"id": 3}, {"id": 2, "numberOfGuests": 2}])
        return 200, envelope([{"id": 4}])

    with stub_api(moving) as url:
        pages = list(
            stub_client(url, page_size=2).pages("/reservations", pagination=Pagination.KEYSET)
        )
    assert ids_of(pages) == [1, 2, 3, 2, 4]


def test_offset_pages_beyond_what_count_allows_are_a_loop() -> None:
    """Fresh ids on every page while count stays 4: stop at ceil(4 / 2) + 2 pages."""

    def endless(path: str, q: dict[str, str]) -> tuple[int, Any]:
        off = int(q["offset"])
        return 200, envelope([{"id": off + 1}, {"id": off + 2}], count=4 + off)

    with stub_api(endless) as url:
        client = stub_client(url, page_size=2, max_pages=50)
        with pytest.raises(MalformedResponseError, match="pagination loop"):
            list(client.pages("/listings"))
        assert client.stats.requests < 50


def test_an_unchanged_earlier_cursor_served_again_after_the_listing_came_round_is_not_a_loop() -> (
    None
):
    """The cursor row of page 2 is updated before page 3 is asked for: it moved to the top, so the
    listing comes round, and with the rows between shifted by one, a page ends on page 1's cursor
    again, unchanged (a churn campaign hit this: "cursor afterId=30000043 did not advance")."""

    order = [10, 11, 12, 13, 14]  # the active sort, as the server holds it

    def came_round(path: str, q: dict[str, str]) -> tuple[int, Any]:
        after = q.get("afterId")
        if after == "13" and order[0] != 13:  # row 13 was updated: it sorts first now
            order.remove(13)
            order.insert(0, 13)
        start = order.index(int(after)) + 1 if after else 0
        return 200, envelope([{"id": i} for i in order[start : start + 2]], count=5)

    with stub_api(came_round) as url:
        pages = list(
            stub_client(url, page_size=2).pages("/reservations", pagination=Pagination.KEYSET)
        )
    # The third page ends on 11, page 1's cursor, unchanged: progress all the same.
    assert ids_of(pages) == [10, 11, 12, 13, 10, 11, 12, 14]


def test_keyset_pages_cycling_beyond_three_passes_over_count_are_a_loop() -> None:
    """A server that cycles between two pages for ever: stopped at ceil(4 * 3 / 2) + 2 pages."""

    def cycling(path: str, q: dict[str, str]) -> tuple[int, Any]:
        if q.get("afterId") == "2":
            return 200, envelope([{"id": 3}, {"id": 4}], count=4)
        return 200, envelope([{"id": 1}, {"id": 2}], count=4)

    with stub_api(cycling) as url:
        client = stub_client(url, page_size=2, max_pages=50)
        with pytest.raises(MalformedResponseError, match="8 pages but count was 4"):
            list(client.pages("/reservations", pagination=Pagination.KEYSET))
        assert client.stats.requests == 1 + 8  # token + 8 pages
