"""The four GET endpoints: envelope, offset and afterId paging, sorting, filters, messages."""

from __future__ import annotations

from typing import Any

from hostaway_sandbox import SandboxServer

from .conftest import Api

ENVELOPE = {"status", "result", "limit", "offset", "count", "page", "totalPages"}


def test_envelope_counts_total_not_page(api: Api) -> None:
    body = api.ok("/listings", limit=5, offset=5)
    assert set(body) == ENVELOPE
    assert body["count"] == 12 and len(body["result"]) == 5
    assert (body["limit"], body["offset"], body["page"], body["totalPages"]) == (5, 5, 2, 3)
    assert api.ok("/reservations", limit=7)["count"] == 60
    assert api.ok("/reservations")["limit"] == 100
    assert api.ok("/reservations", limit=100000)["limit"] == 500  # capped


def test_payload_formats(api: Api) -> None:
    res = api.ok("/reservations", limit=1)["result"][0]
    assert len(res["updatedOn"]) == 19 and res["updatedOn"][10] == " "
    assert len(res["arrivalDate"]) == 10
    listing = api.ok("/listings", limit=1)["result"][0]
    for field in (
        "id",
        "name",
        "city",
        "price",
        "currencyCode",
        "listingImages",
        "latestActivityOn",
    ):
        assert field in listing
    msg = api.ok(f"/conversations/{api.ok('/conversations')['result'][0]['id']}/messages")
    assert msg["result"][0]["isIncoming"] in (0, 1)
    assert isinstance(msg["result"][0]["attachments"], list)
    archived = [x for x in api.server.state.listings(api.account_id) if x["specialStatus"]]
    assert archived and archived[0]["specialStatus"] == "archived"


def test_offset_paging_returns_every_listing_once(api: Api) -> None:
    seen: list[int] = []
    for offset in range(0, 12, 5):
        seen += [r["id"] for r in api.ok("/listings", limit=5, offset=offset)["result"]]
    assert sorted(seen) == sorted(r["id"] for r in api.server.state.listings(api.account_id))
    assert len(seen) == len(set(seen))


def test_listing_sort_orders(api: Api) -> None:
    names = [r["name"].lower() for r in api.ok("/listings", sortOrder="name")["result"]]
    assert names == sorted(names)
    latest = [
        r["latestActivityOn"] for r in api.ok("/listings", sortOrder="latestActivityDesc")["result"]
    ]
    assert latest == sorted(latest, reverse=True)
    ids = [r["id"] for r in api.ok("/listings", sortOrder="orderReversed")["result"]]
    assert ids == sorted(ids, reverse=True)


def keyset(api: Api, limit: int = 7, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        extra = {"afterId": after} if after is not None else {}
        page = api.ok("/reservations", limit=limit, **params, **extra)["result"]
        if not page:
            return rows
        rows += page
        after = page[-1]["id"]


def test_after_id_keyset_returns_every_reservation_once_in_order(api: Api) -> None:
    rows = keyset(api)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 60
    keys = [(r["updatedOn"], r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    # offset is ignored when afterId is present
    first = api.ok("/reservations", limit=3, afterId=ids[2], offset=40)["result"]
    assert [r["id"] for r in first] == ids[3:6]


def test_after_id_follows_the_anchor_after_a_mutation(api: Api) -> None:
    state = api.server.state
    page1 = api.ok("/reservations", limit=10)["result"]
    anchor = page1[-1]["id"]
    # the anchor moves to the front; the next page starts after its new (updatedOn, id)
    state.update_reservation(api.account_id, anchor, guestName="Moved Guest")
    page2 = api.ok("/reservations", limit=10, afterId=anchor)["result"]
    assert anchor not in [r["id"] for r in page2]
    assert page2[0]["id"] == page1[0]["id"]  # everything after the new top row
    top = api.ok("/reservations", limit=1)["result"][0]
    assert top["id"] == anchor and top["guestName"] == "Moved Guest"
    assert top["updatedOn"] == top["latestActivityOn"] > "2026-01-01"


def test_keyset_with_mutations_between_pages_via_hook(server: SandboxServer) -> None:
    api = Api(server).login()
    state, aid = server.state, api.account_id
    victims = [r["id"] for r in sorted(state.reservations(aid), key=lambda r: r["id"])[:3]]

    def hook(method: str, path: str, query: dict[str, str], account_id: int | None) -> None:
        if path == "/v1/reservations" and "afterId" in query and victims:
            state.cancel_reservation(aid, victims.pop())

    server.hooks.before_response = hook
    rows = keyset(api, limit=9)
    server.hooks.before_response = None
    # rows that changed move ahead of the cursor: a single pass may miss them, never duplicates
    assert len({r["id"] for r in rows}) == len(rows)
    cancelled = [r for r in state.reservations(aid) if (r["cancellationDate"] or "") > "2026-01-01"]
    assert len(cancelled) == 3 and all(r["status"] == "cancelled" for r in cancelled)


def test_reservation_filters_and_sorts(api: Api) -> None:
    everything = api.server.state.reservations(api.account_id)
    day = sorted(r["latestActivityOn"][:10] for r in everything)[30]
    want = {r["id"] for r in everything if r["latestActivityOn"][:10] >= day}
    got = {r["id"] for r in keyset(api, latestActivityStart=day)}
    assert got == want
    body = api.ok("/reservations", latestActivityStart=day, latestActivityEnd=day)
    assert body["count"] == sum(r["latestActivityOn"][:10] == day for r in everything)
    lid = everything[0]["listingMapId"]
    by_listing = api.ok("/reservations", listingId=lid, limit=500)
    assert by_listing["count"] == sum(r["listingMapId"] == lid for r in everything)
    arrivals = [
        r["arrivalDate"] for r in api.ok("/reservations", sortOrder="arrivalDate")["result"]
    ]
    assert arrivals == sorted(arrivals)
    assert api.ok("/reservations", bogusParam="x")["count"] == 60


def test_listing_latest_activity_filter(api: Api) -> None:
    listings = api.server.state.listings(api.account_id)
    day = sorted(r["latestActivityOn"][:10] for r in listings)[6]
    got = api.ok("/listings", latestActivityEnd=day)["result"]
    assert {r["id"] for r in got} == {
        r["id"] for r in listings if r["latestActivityOn"][:10] <= day
    }


def test_unknown_after_id_is_a_fail_envelope(api: Api) -> None:
    resp = api.get("/reservations", afterId=1)
    assert resp.status_code == 404 and resp.json()["status"] == "fail"


def test_conversations_are_stable_but_not_id_sorted(api: Api) -> None:
    ids = [c["id"] for c in api.ok("/conversations", limit=500)["result"]]
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    paged = [
        c["id"]
        for o in range(0, len(ids), 10)
        for c in api.ok("/conversations", limit=10, offset=o)["result"]
    ]
    assert paged == ids
    ratio = len(ids) / 60
    assert 0.6 < ratio < 0.95  # conversation_ratio 0.8
    one = api.ok(
        "/conversations", reservationId=api.ok("/conversations")["result"][0]["reservationId"]
    )
    assert one["count"] == 1


def test_messages_per_conversation_and_summary_fields(api: Api) -> None:
    convs = api.ok("/conversations", limit=500)["result"]
    counts = []
    for conv in convs[:15]:
        body = api.ok(f"/conversations/{conv['id']}/messages", limit=2)
        counts.append(body["count"])
        msgs = (
            body["result"]
            + api.ok(f"/conversations/{conv['id']}/messages", limit=50, offset=2)["result"]
        )
        assert len(msgs) == body["count"]
        assert all(m["conversationId"] == conv["id"] for m in msgs)
        newest_in = max((m["date"] for m in msgs if m["isIncoming"]), default=None)
        newest_out = max((m["date"] for m in msgs if not m["isIncoming"]), default=None)
        assert conv["messageReceivedOn"] == newest_in and conv["messageSentOn"] == newest_out
        assert conv["conversationMessages"] == [msgs[0]]  # newest first; the latest only
    assert 4 <= sum(counts) / len(counts) <= 6  # mean 5, varied
    assert len(set(counts)) > 1


def test_add_message_bumps_timestamps(api: Api) -> None:
    state, aid = api.server.state, api.account_id
    conv = state.conversations(aid)[0]
    msg = state.add_message(aid, conv["id"], body="Late arrival?", incoming=True)
    after = next(c for c in state.conversations(aid) if c["id"] == conv["id"])
    assert after["messageReceivedOn"] == msg["date"] > conv["messageReceivedOn"]
    assert after["messageSentOn"] == conv["messageSentOn"]
    assert after["conversationMessages"][0]["body"] == "Late arrival?"
    res = next(r for r in state.reservations(aid) if r["id"] == conv["reservationId"])
    assert res["latestActivityOn"] == msg["date"]
    reply = state.add_message(aid, conv["id"], body="Sure", incoming=False)
    assert (
        api.ok(f"/conversations/{conv['id']}/messages", limit=1)["result"][0]["id"] == reply["id"]
    )


def test_listing_mutations(api: Api) -> None:
    state, aid = api.server.state, api.account_id
    lid = state.listings(aid)[0]["id"]
    assert state.archive_listing(aid, lid)["specialStatus"] == "archived"
    latest = api.ok("/listings", sortOrder="latestActivityDesc", limit=1)["result"][0]
    assert latest["id"] == lid and latest["latestActivityOn"] > "2026-01-01"
    state.delete_listing(aid, lid)
    assert lid not in {r["id"] for r in api.ok("/listings")["result"]}
    new = state.add_listing(aid)
    assert api.ok("/listings")["count"] == 12
    res = state.add_reservation(aid, listing_id=new["id"])
    assert api.ok("/reservations", limit=1)["result"][0]["id"] == res["id"]
    conv = state.add_conversation(aid, res["id"])
    assert conv["conversationMessages"] == [] and conv["messageSentOn"] is None
    assert api.ok("/conversations", reservationId=res["id"])["count"] == 1
