"""Catalog endpoints over real HTTP: envelopes, children, daily windows, run-time registration,
mutations and deletions."""

from __future__ import annotations

import requests

from hostaway_sandbox import Endpoint, SandboxServer, SeedContext
from hostaway_sandbox.catalog import Row

from .conftest import Api


def test_global_map_is_the_same_for_every_account(server: SandboxServer) -> None:
    first, second = (Api(server, aid).login() for aid in server.state.account_ids())
    body = first.ok("/countries")
    assert set(body) == {"status", "result"}
    assert body["result"]["PT"] == "Portugal"
    assert body == second.ok("/countries")
    zones = first.ok("/timezones")["result"]
    assert zones["Europe/Lisbon"] == {"value": "(UTC +00:00) Europe/Lisbon", "diff": "+00:00"}
    beds = first.ok("/bedTypes")["result"]
    assert beds[0] == {"id": 1, "name": "Full Bunk Bed"}


def test_calendar_window_and_unknown_listing(api: Api) -> None:
    lid = api.server.state.listings(api.account_id)[0]["id"]
    days = api.ok(f"/listings/{lid}/calendar", startDate="2025-06-01", endDate="2025-06-10")
    dates = [d["date"] for d in days["result"]]
    assert dates[0] == "2025-06-01" and dates[-1] == "2025-06-10" and len(dates) == 10
    again = api.ok(f"/listings/{lid}/calendar", startDate="2025-06-05", endDate="2025-06-05")
    assert again["result"] == [days["result"][4]]  # the same day, whatever was read first
    assert api.get("/listings/1/calendar").status_code == 404
    bad = api.get(f"/listings/{lid}/calendar", startDate="2025-06-10", endDate="2025-06-01")
    assert bad.status_code == 400 and bad.json()["status"] == "fail"


def test_calendar_days_show_reservations(api: Api) -> None:
    state = api.server.state
    res = next(r for r in state.reservations(api.account_id) if r["status"] in ("new", "modified"))
    day = api.ok(
        f"/listings/{res['listingMapId']}/calendar",
        startDate=res["arrivalDate"],
        endDate=res["arrivalDate"],
    )["result"][0]
    assert day["status"] == "reserved" and day["isAvailable"] == 0
    assert day["reservations"][0]["id"] == res["id"]


def _widgets(ctx: SeedContext) -> list[Row]:
    return [{"id": ctx.id(k), "name": f"w{k}", "updatedOn": None} for k in range(7)]


def test_runtime_endpoint_paging_mutation_and_delete(api: Api) -> None:
    server = api.server
    assert api.get("/widgets").status_code == 404
    server.register_endpoint(
        Endpoint("widgets", "/v1/widgets", _widgets, paging="offset", touch=("updatedOn",))
    )
    page = api.ok("/widgets", limit=3, offset=3)
    assert (page["count"], page["limit"], page["offset"], page["page"], page["totalPages"]) == (
        7,
        3,
        3,
        2,
        3,
    )
    ids = [r["id"] for r in api.ok("/widgets")["result"]]
    assert len(ids) == 7 and ids[3] == page["result"][0]["id"]
    changed = server.state.update_object("widgets", api.account_id, ids[0], name="renamed")
    assert changed["updatedOn"] is not None
    server.state.delete_object("widgets", api.account_id, ids[1])
    added = server.state.add_object("widgets", api.account_id, {"name": "new"})
    rows = {r["id"]: r for r in api.ok("/widgets")["result"]}
    assert rows[ids[0]]["name"] == "renamed" and ids[1] not in rows and added["id"] in rows
    other = server.state.account_ids()[1]
    assert len(server.state.catalog_rows("widgets", other)) == 7  # per account


def test_calendar_day_delete_and_update(api: Api) -> None:
    state = api.server.state
    lid = state.listings(api.account_id)[0]["id"]
    state.update_object("listing_calendar", api.account_id, "2025-07-01", lid, price=999.0)
    state.delete_object("listing_calendar", api.account_id, "2025-07-02", lid)
    days = api.ok(f"/listings/{lid}/calendar", startDate="2025-07-01", endDate="2025-07-03")
    assert [d["date"] for d in days["result"]] == ["2025-07-01", "2025-07-03"]
    assert days["result"][0]["price"] == 999.0


def test_every_builtin_endpoint_answers_its_shape(api: Api) -> None:
    state = api.server.state
    listing = state.listings(api.account_id)[0]["id"]
    reservation = state.reservations(api.account_id)[0]["id"]
    endpoints = list(state.catalog.endpoints.values())
    assert len(endpoints) >= 30
    for ep in endpoints:
        parent = listing if ep.parent == "listing" else reservation
        body = api.ok(ep.path.removeprefix("/v1").replace("{id}", str(parent)))
        want = {"list": list, "object": dict, "map": dict}[ep.shape]
        assert isinstance(body["result"], want), ep.name
        if ep.paging == "offset":
            assert body["count"] == len(state.catalog_rows(ep.name, api.account_id)), ep.name
        else:
            assert set(body) == {"status", "result"}, ep.name


def test_reviews_page_and_filter(api: Api) -> None:
    everything = api.server.state.catalog_rows("reviews", api.account_id)
    assert everything, "the seed gives the account reviews"
    first = api.ok("/reviews", limit=2)
    assert first["count"] == len(everything) and len(first["result"]) == 2
    rid = everything[0]["reservationId"]
    only = api.ok("/reviews", reservationId=rid)["result"]
    assert only and {r["reservationId"] for r in only} == {rid}


def test_children_follow_their_parent(api: Api) -> None:
    state = api.server.state
    res = state.reservations(api.account_id)[0]
    fields = api.ok(f"/financeField/{res['id']}")["result"]
    total = next(f for f in fields if f["name"] == "totalPriceFromChannel")
    assert total["value"] == res["totalPrice"]
    agreement = api.ok(f"/reservations/{res['id']}/rentalAgreement")["result"]
    assert agreement["reservationId"] == res["id"]
    lid = state.listings(api.account_id)[-1]["id"]
    assert api.ok(f"/listingAgreement/{lid}")["status"] == "success"
    state.delete_listing(api.account_id, lid)
    assert api.get(f"/listingAgreement/{lid}").status_code == 404


def test_admin_mutates_catalog_rows(api: Api) -> None:

    base = api.server.base_url + "/_sandbox/mutate"
    aid = api.account_id
    first = api.ok("/coupons")["result"][0]
    changed = requests.post(
        base,
        json={"op": "update_object", "account_id": aid, "endpoint": "coupons",
              "key": first["id"], "fields": {"isActive": 0}},
        timeout=5,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert api.ok("/coupons")["result"][0]["isActive"] == 0
    gone = {"op": "delete_object", "account_id": aid, "endpoint": "coupons", "key": first["id"]}
    assert requests.post(base, json=gone, timeout=5).status_code == 200
    assert first["id"] not in {c["id"] for c in api.ok("/coupons")["result"]}


def test_catalog_fields_name_real_fields(server: SandboxServer) -> None:
    from hostaway_sandbox.catalog_fields import FIELDS

    state = server.state
    aid = state.account_ids()[0]
    listing = state.listings(aid)
    reservation = state.reservations(aid)
    assert set(FIELDS) == set(state.catalog.endpoints)
    for name, fields in FIELDS.items():
        ep = state.catalog.endpoints[name]
        parents = [r["id"] for r in (listing if ep.parent == "listing" else reservation)]
        rows = [
            row
            for pid in (parents if ep.parent else [None])
            for row in state.catalog_rows(name, aid, pid)
        ]
        assert rows, name
        for fld in fields:
            assert all(fld in row for row in rows), (name, fld)


def test_custom_fields_and_seasonal_rules_page_and_filter_as_documented(api: Api) -> None:
    page = api.ok("/customFields", limit=2)  # docs: _newCustomField_customFieldList.md
    assert page["count"] == 15 and len(page["result"]) == 2 and page["limit"] == 2
    listing = api.ok("/customFields", objectType="listing")["result"]
    assert listing and {r["objectType"] for r in listing} == {"listing"}
    old = api.ok("/reservations/customFields")  # deprecated: reservation fields only, unpaged
    assert set(old) == {"status", "result"} and len(old["result"]) == 7
    assert {r["objectType"] for r in old["result"]} == {"reservation"}
    rules = api.ok("/seasonalRules", limit=1, offset=1)  # docs: _seasonalRule_retrieveList.md
    assert rules["count"] == 3 and len(rules["result"]) == 1 and rules["offset"] == 1
    assert [r["title"] for r in api.ok("/seasonalRules", channelId=2000)["result"]] == ["Weekends"]
