"""Global reference lists (the same for every account): countries, currencies, languages,
time zones (`{code: value}` maps), bed types, property types and amenities (`{id, name}` lists).

Shapes from the official docs (`_commonInfo_*.md`, `_bedType*`, `_propertyType*`, `_amenity*`).
"""

from __future__ import annotations

from collections.abc import Callable

from .catalog import Endpoint, Row, SeedContext

COUNTRIES = {
    "AU": "Australia", "AT": "Austria", "BE": "Belgium", "BR": "Brazil", "CA": "Canada",
    "HR": "Croatia", "DK": "Denmark", "FR": "France", "DE": "Germany", "GR": "Greece",
    "IE": "Ireland", "IT": "Italy", "JP": "Japan", "MX": "Mexico", "NL": "Netherlands",
    "NZ": "New Zealand", "PT": "Portugal", "ZA": "South Africa", "ES": "Spain",
    "SE": "Sweden", "CH": "Switzerland", "TH": "Thailand", "AE": "United Arab Emirates",
    "GB": "United Kingdom", "US": "United States", "AX": "Åland Islands",
}  # fmt: skip
CURRENCIES = {
    "AUD": "Australian Dollar", "BRL": "Brazilian Real", "CAD": "Canadian Dollar",
    "CHF": "Swiss Franc", "DKK": "Danish Krone", "EUR": "Euro", "GBP": "British Pound",
    "JPY": "Japanese Yen", "MXN": "Mexican Peso", "NZD": "New Zealand Dollar",
    "SEK": "Swedish Krona", "THB": "Thai Baht", "USD": "United States Dollar",
    "ZAR": "South African Rand",
}  # fmt: skip
LANGUAGES = {
    "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "fr": "French", "hr": "Croatian", "it": "Italian", "ja": "Japanese", "nl": "Dutch",
    "pt": "Portuguese", "sv": "Swedish", "th": "Thai", "zu": "Zulu",
}  # fmt: skip
# (name, UTC offset) sorted by offset, as the docs say the real list is
TIMEZONES = (
    ("Pacific/Midway", "-11:00"), ("America/Los_Angeles", "-08:00"),
    ("America/Denver", "-07:00"), ("America/Chicago", "-06:00"),
    ("America/New_York", "-05:00"), ("America/Toronto", "-05:00"),
    ("America/Sao_Paulo", "-03:00"), ("Europe/Lisbon", "+00:00"), ("Europe/London", "+00:00"),
    ("Europe/Madrid", "+01:00"), ("Europe/Paris", "+01:00"), ("Africa/Johannesburg", "+02:00"),
    ("Asia/Dubai", "+04:00"), ("Asia/Bangkok", "+07:00"), ("Asia/Tokyo", "+09:00"),
    ("Australia/Sydney", "+10:00"), ("Pacific/Auckland", "+12:00"),
    ("Pacific/Kiritimati", "+14:00"),
)  # fmt: skip
BED_TYPES = (
    "Full Bunk Bed", "Double Bed", "Queen Bed", "King Bed", "Single Bed", "Sofa Bed",
    "Crib", "Air Mattress", "Futon", "Floor Mattress", "Toddler Bed", "Hammock", "Water Bed",
)  # fmt: skip
PROPERTY_TYPES = (
    "Apartment", "House", "Bed and Breakfast", "Boutique Hotel", "Cabin", "Villa",
    "Condominium", "Cottage", "Loft", "Townhouse", "Studio", "Bungalow", "Chalet", "Guesthouse",
)  # fmt: skip
AMENITIES = (
    "Cable TV", "Internet", "Wireless", "Air conditioning", "Wheelchair accessible",
    "Swimming pool", "Kitchen", "Free parking on premises", "Smoking allowed", "Pets allowed",
    "Doorman", "Gym", "Elevator", "Hot tub", "Indoor fireplace", "Buzzer/Wireless intercom",
    "Heating", "Family/kid friendly", "Suitable for events", "Washer", "Dryer",
    "Smoke detector", "Carbon monoxide detector", "First aid kit", "Safety card",
    "Fire extinguisher", "Essentials", "Shampoo", "24-hour check-in", "Hangers", "Hair dryer",
    "Iron", "Laptop friendly workspace", "Self check-in", "Private entrance", "Balcony",
)  # fmt: skip


def _map(items: dict[str, str]) -> list[Row]:
    return [{"code": k, "value": v} for k, v in items.items()]


def _countries(ctx: SeedContext) -> list[Row]:
    return _map(dict(sorted(COUNTRIES.items(), key=lambda kv: kv[1])))


def _currencies(ctx: SeedContext) -> list[Row]:
    return _map({k: f"{k} - {v}" for k, v in sorted(CURRENCIES.items())})


def _languages(ctx: SeedContext) -> list[Row]:
    return _map(dict(sorted(LANGUAGES.items(), key=lambda kv: kv[1])))


def _timezones(ctx: SeedContext) -> list[Row]:
    return [{"code": n, "value": {"value": f"(UTC {d}) {n}", "diff": d}} for n, d in TIMEZONES]


def _named(names: tuple[str, ...]) -> Callable[[SeedContext], list[Row]]:
    def seed(ctx: SeedContext) -> list[Row]:
        return [{"id": i + 1, "name": n} for i, n in enumerate(names)]

    return seed


def endpoints() -> list[Endpoint]:
    """The global reference endpoints."""
    g = {"scope": "global", "key": ("code",), "shape": "map"}
    return [
        Endpoint("countries", "/v1/countries", _countries, **g),  # type: ignore[arg-type]
        Endpoint("currencies", "/v1/currencies", _currencies, **g),  # type: ignore[arg-type]
        Endpoint("languages", "/v1/languages", _languages, **g),  # type: ignore[arg-type]
        Endpoint("timezones", "/v1/timezones", _timezones, **g),  # type: ignore[arg-type]
        Endpoint("bed_types", "/v1/bedTypes", _named(BED_TYPES), scope="global"),
        Endpoint("property_types", "/v1/propertyTypes", _named(PROPERTY_TYPES), scope="global"),
        Endpoint("amenities", "/v1/amenities", _named(AMENITIES), scope="global"),
    ]
