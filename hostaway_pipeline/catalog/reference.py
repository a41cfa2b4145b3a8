"""Global reference lists: the same for every account, fetched daily with any account's token
and stored once (account_id 0)."""

from __future__ import annotations

from hostaway_pipeline.catalog.lists import whole_list
from hostaway_pipeline.catalog.spec import Cadence, Kind, Scope, Shape, StreamSpec, f

AREA = "reference"


def _map(name: str, path: str, *, value: bool = True) -> StreamSpec:
    fields = (f("code", "code", Kind.STR),) + ((f("value", "value", Kind.STR),) if value else ())
    return whole_list(
        name, path, *fields, area=AREA, cadence=Cadence.WARM, scope=Scope.GLOBAL,
        shape=Shape.MAP, key=("code",), description=f"Global {name} (GET /v1{path}).",
    )  # fmt: skip


def _named(name: str, path: str) -> StreamSpec:
    return whole_list(
        name, path, f("name", "name", Kind.STR), area=AREA, cadence=Cadence.WARM,
        scope=Scope.GLOBAL, description=f"Global {name.replace('_', ' ')} (GET /v1{path}).",
    )  # fmt: skip


ENTITIES = (
    _map("countries", "/countries"),
    _map("currencies", "/currencies"),
    _map("languages", "/languages"),
    _map("timezones", "/timezones", value=False),  # values are objects: payload only
    _named("bed_types", "/bedTypes"),
    _named("property_types", "/propertyTypes"),
    _named("amenities", "/amenities"),
)
