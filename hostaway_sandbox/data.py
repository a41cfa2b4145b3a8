"""Deterministic seeded data: accounts, listings, reservations and conversations.

Everything derives from `random.Random(f"{seed}:{account_id}")` and the fixed base time
2026-01-01, so one seed always yields the same data. Messages are generated lazily (see
`conversations.py`), which keeps a 100k-reservation account at a few hundred bytes per row.
"""

from __future__ import annotations

import gc
import random
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .clock import BASE_TS, DAY, fmt_date, fmt_dt
from .conversations import Conversation

# (city, state, country, countryCode, timeZoneName, lat, lng, currency)
CITIES = (
    ("Lisbon", "Lisboa", "Portugal", "PT", "Europe/Lisbon", 38.7223, -9.1393, "EUR"),
    ("Porto", "Porto", "Portugal", "PT", "Europe/Lisbon", 41.1579, -8.6291, "EUR"),
    ("Barcelona", "Catalonia", "Spain", "ES", "Europe/Madrid", 41.3874, 2.1686, "EUR"),
    ("Paris", "Ile-de-France", "France", "FR", "Europe/Paris", 48.8566, 2.3522, "EUR"),
    ("London", "England", "United Kingdom", "GB", "Europe/London", 51.5072, -0.1276, "GBP"),
    ("Miami", "Florida", "United States", "US", "America/New_York", 25.7617, -80.1918, "USD"),
    ("Austin", "Texas", "United States", "US", "America/Chicago", 30.2672, -97.7431, "USD"),
    ("Denver", "Colorado", "United States", "US", "America/Denver", 39.7392, -104.9903, "USD"),
    ("Toronto", "Ontario", "Canada", "CA", "America/Toronto", 43.6532, -79.3832, "CAD"),
    ("Sydney", "NSW", "Australia", "AU", "Australia/Sydney", -33.8688, 151.2093, "AUD"),
    (
        "Cape Town",
        "Western Cape",
        "South Africa",
        "ZA",
        "Africa/Johannesburg",
        -33.92,
        18.42,
        "ZAR",
    ),
    ("Kyoto", "Kyoto", "Japan", "JP", "Asia/Tokyo", 35.0116, 135.7681, "JPY"),
)
ADJECTIVES = ("Sunny", "Cozy", "Modern", "Quiet", "Bright", "Charming", "Spacious", "Rustic")
KINDS = ("Loft", "Apartment", "Studio", "Villa", "Cottage", "Townhouse", "Penthouse", "Cabin")
SPOTS = ("near Old Town", "by the Beach", "with Terrace", "in the Center", "with Pool", "")
STREETS = ("Main St", "Rua Augusta", "Carrer de Pau", "Rue Cler", "Baker St", "Ocean Dr")
FIRST_NAMES = (
    "Ana", "Bruno", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kenji",
    "Laura", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samir", "Tara", "Ulla",
    "Victor", "Wen", "Yara", "Zoe", "José", "Zoë", "Łukasz",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Smith", "Garcia", "Muller", "Rossi", "Dubois", "Tanaka", "Nguyen", "Kowalski",
    "Olsen", "Brown", "Costa", "Novak", "Haddad", "Patel", "O'Neil", "van Dijk", "Müller",
)  # fmt: skip
DOMAINS = ("example.com", "mail.test", "guest.airbnb.invalid", "inbox.example.org")
# (channelId, channelName, weight)
CHANNELS = (
    (2018, "airbnbOfficial", 45), (2005, "bookingcom", 25), (2002, "homeaway", 10),
    (2013, "direct", 12), (2007, "expedia", 5), (2000, "manual", 3),
)  # fmt: skip
# (status, weight)
STATUSES = (
    ("new", 40), ("modified", 22), ("cancelled", 12), ("ownerStay", 3), ("pending", 3),
    ("awaitingPayment", 2), ("declined", 2), ("expired", 2), ("inquiry", 6),
    ("inquiryPreapproved", 2), ("inquiryDenied", 2), ("unconfirmed", 4),
)  # fmt: skip
_CHANNEL_IDX = [i for i, c in enumerate(CHANNELS) for _ in range(c[2])]
_STATUS_NAMES = [s for s, w in STATUSES for _ in range(w)]
_ASCII = {
    n: unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode().lower()
    for n in FIRST_NAMES
}


@dataclass(frozen=True)
class SeedSpec:
    """What to seed; counts are per account."""

    accounts: int = 3
    listings: int = 10
    reservations: int = 50
    conversation_ratio: float = 0.8
    messages_per_conversation: int = 5
    seed: int = 42
    first_account_id: int = 10001


@dataclass
class IdAlloc:
    """Global id counters (Hostaway ids are global, not per account)."""

    listing: int = 100_001
    reservation: int = 30_000_001
    conversation: int = 5_000_001
    message: int = 700_000_001

    def take(self, kind: str, n: int = 1) -> int:
        """Reserve `n` consecutive ids of `kind`; return the first."""
        first: int = getattr(self, kind)
        setattr(self, kind, first + n)
        return first


@dataclass
class Account:
    """One Hostaway account's data. Listings and reservations are stored as API payload dicts."""

    id: int
    secret: str
    rng: random.Random
    listings: dict[int, dict[str, Any]] = field(default_factory=dict)
    reservations: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    conv_order: list[int] = field(default_factory=list)
    res_version: int = 0
    sort_cache: dict[str, tuple[int, list[Any], list[dict[str, Any]]]] = field(default_factory=dict)
    filter_cache: dict[tuple[str, ...], tuple[int, list[int]]] = field(default_factory=dict)
    # listing id -> (res_version, {date: reservation}): the calendar's bookings (catalog_listing)
    booking_cache: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)


def make_listing(rng: random.Random, lid: int, index: int, latest_ts: int) -> dict[str, Any]:
    """A realistic listing payload."""
    city, state, country, cc, tz, lat, lng, cur = rng.choice(CITIES)
    kind = rng.choice(KINDS)
    beds = rng.randint(1, 5)
    name = f"{rng.choice(ADJECTIVES)} {kind} {rng.choice(SPOTS)}".strip()
    return {
        "id": lid,
        "name": name,
        "internalListingName": f"{city[:3].upper()}-{index:04d} {kind}",
        "propertyTypeId": rng.choice((1, 2, 3, 4, 8, 11)),
        "address": f"{rng.randint(1, 300)} {rng.choice(STREETS)}, {city}",
        "city": city,
        "state": state,
        "zipcode": f"{rng.randint(1000, 99999):05d}",
        "country": country,
        "countryCode": cc,
        "lat": round(lat + rng.uniform(-0.05, 0.05), 6),
        "lng": round(lng + rng.uniform(-0.05, 0.05), 6),
        "price": float(rng.randint(45, 480)),
        "currencyCode": cur,
        "timeZoneName": tz,
        "personCapacity": beds * 2,
        "bedroomsNumber": beds,
        "bathroomsNumber": rng.choice((1, 1, 1.5, 2, 2.5, 3)),
        "checkInTimeStart": 15,
        "checkInTimeEnd": 22,
        "checkOutTime": 11,
        "specialStatus": "archived" if index % 9 == 8 else None,
        "listingImages": [
            {
                "id": lid * 10 + k,
                "caption": f"Photo {k + 1}",
                "url": f"https://images.sandbox.hostaway.invalid/{lid}/{k}.jpg",
                "sortOrder": k + 1,
            }
            for k in range(rng.randint(1, 4))
        ],
        "latestActivityOn": fmt_dt(latest_ts),
    }


def make_reservations(
    acct: Account, n: int, ids: IdAlloc, spec: SeedSpec, listing_ids: list[int]
) -> None:
    """Seed `n` reservations (ids in creation order) and their conversations into `acct`."""
    rng = acct.rng
    rand = rng.random
    first_id = ids.take("reservation", n)
    lo, hi = BASE_TS - 730 * DAY, BASE_TS - DAY
    inserted = sorted([lo + int(rand() * (hi - lo)) for _ in range(n)])
    names: dict[tuple[str, str], str] = {}
    prev_updated: str | None = None
    mean = max(1, spec.messages_per_conversation)
    for i, ins in enumerate(inserted):
        rid = first_id + i
        listing = acct.listings[listing_ids[int(rand() * len(listing_ids))]] if listing_ids else {}
        cid, cname, _ = CHANNELS[_CHANNEL_IDX[int(rand() * len(_CHANNEL_IDX))]]
        status = _STATUS_NAMES[int(rand() * len(_STATUS_NAMES))]
        first = FIRST_NAMES[int(rand() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rand() * len(LAST_NAMES))]
        full = names.setdefault((first, last), f"{first} {last}")
        nights = 1 + int(rand() * 14)
        arrival = ins + (1 + int(rand() * 180)) * DAY
        upd_ts = ins if rand() < 0.3 else ins + int(rand() * min(120 * DAY, BASE_TS - 60 - ins))
        ins_text = fmt_dt(ins)
        upd = ins_text if upd_ts == ins else fmt_dt(upd_ts)
        if prev_updated is not None and rand() < 0.05 and prev_updated > ins_text:
            upd = prev_updated  # a bulk update: several rows share one updatedOn second
        prev_updated = upd
        price = listing.get("price", 100.0)
        row: dict[str, Any] = {
            "id": rid,
            "listingMapId": listing.get("id"),
            "channelId": cid,
            "channelName": cname,
            "reservationId": f"{cid}-{1_000_000_000 + int(rand() * 9e9)}",
            "status": status,
            "arrivalDate": fmt_date(arrival),
            "departureDate": fmt_date(arrival + nights * DAY),
            "nights": nights,
            "guestName": full,
            "guestFirstName": first,
            "guestLastName": last,
            "guestEmail": f"{_ASCII[first]}.{rid % 9973}@{DOMAINS[rid % len(DOMAINS)]}",
            "phone": f"+{1 + int(rand() * 98)} {100_000_000 + int(rand() * 9e8)}",
            "guestCountry": listing.get("countryCode"),
            "numberOfGuests": 1 + int(rand() * listing.get("personCapacity", 4)),
            "adults": 1,
            "children": 0,
            "totalPrice": round(price * nights * (0.9 + rand() * 0.3), 2),
            "currency": listing.get("currencyCode", "USD"),
            "isPaid": int(status in ("new", "modified")),
            "cancellationDate": upd if status == "cancelled" else None,
            "confirmationCode": f"HM{rng.getrandbits(40):010X}",
            "reservationDate": ins_text,
            "insertedOn": ins_text,
            "updatedOn": upd,
            "latestActivityOn": upd,
        }
        row["adults"] = row["numberOfGuests"]
        acct.reservations[rid] = row
        if rand() < spec.conversation_ratio:
            conv = seed_conversation(acct, row, ids, rng.getrandbits(48), mean, ins)
            last_msg = max(conv.sent_on or "", conv.received_on or "")
            if last_msg > upd:
                row["latestActivityOn"] = last_msg


def seed_conversation(
    acct: Account, row: dict[str, Any], ids: IdAlloc, cseed: int, mean: int, start: int
) -> Conversation:
    """Create a conversation for reservation `row` with about `mean` seeded messages."""
    n = max(0, mean + (cseed % 3) - 1) if mean > 0 else 0
    if mean > 0:
        n = max(1, n)
    end = min(BASE_TS - 60, start + 30 * DAY)
    gap = max(60, min(2 * DAY, (end - start) // max(1, n + 1)))
    conv = Conversation(
        conv_id=ids.take("conversation"),
        account_id=acct.id,
        listing_id=row["listingMapId"],
        reservation_id=row["id"],
        recipient_name=row["guestName"],
        guest_first=row["guestFirstName"],
        guest_email=row["guestEmail"],
        conv_type="email" if cseed % 7 == 0 else "channel",
        cseed=cseed,
        n_seeded=n,
        first_id=ids.take("message", n),
        t0=start + 60,
        gap=gap,
    )
    acct.conversations[conv.id] = conv
    return conv


def make_account(spec: SeedSpec, account_id: int, ids: IdAlloc) -> Account:
    """Seed one account deterministically from (spec.seed, account_id)."""
    rng = random.Random(f"{spec.seed}:{account_id}")
    acct = Account(id=account_id, secret=f"{rng.getrandbits(128):032x}", rng=rng)
    for idx in range(spec.listings):
        lid = ids.take("listing")
        latest = BASE_TS - rng.randrange(DAY, 90 * DAY)
        acct.listings[lid] = make_listing(rng, lid, idx, latest)
    make_reservations(acct, spec.reservations, ids, spec, list(acct.listings))
    acct.conv_order = list(acct.conversations)
    rng.shuffle(acct.conv_order)
    return acct


@contextmanager
def no_gc() -> Iterator[None]:
    """Seeding and adding accounts allocate many small objects: no collector pauses meanwhile."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
