"""The shape of a catalog entry: one frozen `StreamSpec` per entity, and its named strategies.

Everything else is derived from a spec: its warehouse table (`warehouse/schema.py`), its asset,
checks and run config (`defs/`), its place in scheduled runs (cadence), its soft-delete scope and
the tests' parametrisation. A concept the data cannot express is a new strategy value here and
one named branch in the engine, never an `if entity == ...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Kind(StrEnum):
    """How a payload field is typed into its warehouse column."""

    INT = "int"  # PostgreSQL integer (counts)
    BIGINT = "bigint"  # PostgreSQL bigint (ids)
    STR = "str"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    DECIMAL = "decimal"


class Pagination(StrEnum):
    OFFSET = "offset"  # limit/offset with the envelope's total `count`
    KEYSET = "keyset"  # `afterId` over the endpoint's default order
    NONE = "none"  # one response holds everything (unpaged lists, single objects, maps)


class Shape(StrEnum):
    """What the envelope's `result` holds."""

    LIST = "list"  # a list of objects
    OBJECT = "object"  # one object (or null/empty: nothing)
    MAP = "map"  # {code: value}: each entry becomes the record {"code": code, "value": value}


class Scope(StrEnum):
    ACCOUNT = "account"  # rows per account
    # The same rows for every account (countries, currencies, ...): fetched with any account's
    # token and stored once, under account_id 0 (GLOBAL_ACCOUNT).
    GLOBAL = "global"


GLOBAL_ACCOUNT = 0


class Incremental(StrEnum):
    # `latestActivityStart` (a date) since the watermark minus the lookback; every page is read.
    LATEST_ACTIVITY = "latest_activity"
    # Newest-first order by the cursor: stop paging once rows are older than watermark - lookback.
    NEWEST_FIRST = "newest_first"
    # Children of parents that changed since the last sync: listed parents whose change fields
    # moved (messages of conversations), or stored parents whose warehouse row changed since
    # (finance fields of reservations).
    CHANGED_PARENTS = "changed_parents"
    # No server-side filter: the whole list (or every parent's children) each time it is due.
    FULL_LISTING = "full_listing"


# How early an entity counts as due: less than a tick of the incremental schedule (30 min), more
# than a run's delay between its scheduled time and the entity's sync.
DUE_TOLERANCE = timedelta(minutes=10)


class Cadence(StrEnum):
    """How fresh an entity must be: an incremental run syncs it only when it is due."""

    HOT = "hot"  # every incremental run
    WARM = "warm"  # once a day
    REFERENCE = "reference"  # once a week

    @property
    def every(self) -> timedelta:
        return {
            Cadence.HOT: timedelta(0),
            Cadence.WARM: timedelta(days=1),
            Cadence.REFERENCE: timedelta(days=7),
        }[self]

    def due(self, last: datetime | None, now: datetime) -> bool:
        """Whether an incremental run at `now` syncs an entity last synced at `last`: up to
        DUE_TOLERANCE early, so a daily entity is not pushed back a tick every day by the run's
        own duration, yet one synced by the nightly full sync is not synced again by the
        incremental that ticks just before the next one."""
        return (
            self.every == timedelta(0) or last is None or now - last >= self.every - DUE_TOLERANCE
        )


# Columns every entity table has besides its typed ones (see warehouse/schema.py).
SHARED_COLUMNS = frozenset(
    {"account_id", "id", "payload", "payload_hash", "first_seen_at", "synced_at", "deleted_at"}
)


@dataclass(frozen=True)
class Field:
    column: str
    source: str
    kind: Kind


@dataclass(frozen=True)
class Window:
    """A date window sent as two params: from `back` days ago to `ahead` days ahead (settings
    HOSTAWAY_CALENDAR_DAYS_BACK / _AHEAD give the engine its values)."""

    start_param: str = "startDate"
    end_param: str = "endDate"


@dataclass(frozen=True)
class ChildMark:
    """A parent change field that equals one of its children's columns: `messageReceivedOn` is
    the `date` (`sent_at`) of the conversation's newest message whose `is_incoming` is true. A
    child delivered by webhook at that mark shows the parent moved because of it (sync/covered.py).
    """

    parent_field: str
    column: str
    flag_column: str
    flag: bool


@dataclass(frozen=True)
class StreamSpec:
    name: str
    path: str  # relative to the API base; children use "{parent_id}"
    table: str
    pagination: Pagination
    incremental: Incremental
    fields: tuple[Field, ...]
    cursor_field: str | None = None  # payload field whose max is the stream's watermark
    parent: StreamSpec | None = None
    # Parent fields whose movement means the parent has new children (messages of a conversation).
    parent_change_fields: tuple[str, ...] = ()
    parent_key_column: str | None = None  # child column holding the parent id (soft-delete scope)
    # How the parent's change fields map to children, and the webhook object that delivers the
    # children: a moved parent whose every new mark is a webhook-delivered child is not refetched.
    child_marks: tuple[ChildMark, ...] = ()
    webhook_object: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    description: str = ""  # the asset's description in the Dagster UI
    # Secondary indexes of the table, each led by account_id: ("account_id", "updated_on"), ...
    indexes: tuple[tuple[str, ...], ...] = ()
    # False: the entity has no asset of its own; it is synced and materialized through the asset
    # of its child stream (conversations, listed page by page while messages are fetched).
    standalone: bool = True
    shape: Shape = Shape.LIST
    scope: Scope = Scope.ACCOUNT
    # The row's identity within its account. ("id",): the API's integer `id`. Anything else names
    # typed columns (a parent key column included) whose values, joined by "|", make a text `id`:
    # ("code",) for maps, ("listing_id", "date") for calendar days.
    key: tuple[str, ...] = ("id",)
    window: Window | None = None
    cadence: Cadence = Cadence.HOT
    # False: rows missing from a later answer stay (calendar days that left the date window are
    # history, not deletions). Rows of a parent that is gone are soft-deleted either way.
    soft_delete: bool = True
    # Entities sharing an area are synced by one asset step (one op); None: a step of its own.
    area: str | None = None
    # Top-level payload fields never stored (secrets such as a webhook's password): replaced by
    # "[redacted]" before hashing and writing.
    redact: tuple[str, ...] = ()
    # Guest erasure (privacy/erasure.py): which payload value is matched against which kind of
    # erasure rule ("reservation", "conversation", "email"); "a[].b" looks into every element of
    # the list `a` (calendar days embed the reservations covering them). A matching row keeps only
    # its id and typed fields. Empty: the entity holds no guest data.
    erase_by: tuple[tuple[str, str], ...] = ()
    # True: the account is not worth syncing without it (listings, reservations, conversations,
    # messages). A refusal there is about the credentials; a refusal of any other entity while
    # the token still works for the core ones marks only that entity unavailable for the account.
    core: bool = False

    def __post_init__(self) -> None:
        columns = [f.column for f in self.fields]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        reserved = sorted(set(columns) & SHARED_COLUMNS)
        if dupes or reserved:
            raise ValueError(
                f"stream {self.name!r}: typed columns {dupes or reserved} are declared twice or "
                f"clash with the shared columns {sorted(SHARED_COLUMNS)}: rename them in the spec"
            )
        if self.parent is not None and self.parent_key_column not in columns:
            raise ValueError(
                f"child stream {self.name!r}: parent_key_column {self.parent_key_column!r} must "
                "be one of its typed columns (it scopes soft-deletes to one parent)"
            )
        for index in self.indexes:
            unknown = [c for c in index if c not in columns and c not in SHARED_COLUMNS]
            if unknown:
                raise ValueError(f"stream {self.name!r}: index {index} names no column {unknown}")
        if self.key != ("id",) and not set(self.key) <= set(columns):
            raise ValueError(f"stream {self.name!r}: key {self.key} names no typed column")
        if self.scope is Scope.GLOBAL and self.parent is not None:
            raise ValueError(f"stream {self.name!r}: a global list has no parent")
        if self.pagination is not Pagination.NONE and self.shape is not Shape.LIST:
            raise ValueError(f"stream {self.name!r}: only lists are paged")
        marks = {m.parent_field for m in self.child_marks}
        if not marks <= set(self.parent_change_fields) or (marks and self.webhook_object is None):
            raise ValueError(
                f"stream {self.name!r}: child_marks must name parent_change_fields and come "
                "with the webhook_object that delivers the children"
            )
        if self.incremental is Incremental.CHANGED_PARENTS and self.parent is None:
            raise ValueError(f"stream {self.name!r}: changed_parents needs a parent")

    @property
    def asset_name(self) -> str:
        """The op name of the step that syncs the stream (run config is keyed by it)."""
        return f"hostaway__{self.area or self.name}"

    @property
    def text_id(self) -> bool:
        """True when `id` is the text of `key`'s columns rather than the API's integer id."""
        return self.key != ("id",)

    @property
    def stored_parent(self) -> bool:
        """True for children of a parent synced by its own asset: parents are read from the
        warehouse, not listed again (calendar days of listings, finance fields of reservations)."""
        return self.parent is not None and self.parent.standalone

    def typed_columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.fields)


def f(column: str, source: str, kind: Kind) -> Field:
    """A typed column, shortly: f("listing_map_id", "listingMapId", Kind.BIGINT)."""
    return Field(column, source, kind)
