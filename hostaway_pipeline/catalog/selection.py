"""Which entities an account syncs: names, their validation, and the dependencies they imply.

A selection names warehouse tables (`HOSTAWAY_ENTITIES`, `accounts entities ID --only ...`):
every catalog entity, plus the marts computed from them. What a name implies is derived from
the catalog, never listed by hand:
- a child implies its parent (calendar days are read per stored listing; messages are fetched
  per listed conversation);
- a parent with no step of its own implies the child whose step lists it (conversations are
  listed only while their messages are fetched);
- a mart implies the tables it reads (`MART_READS`).
"""

from __future__ import annotations

from collections.abc import Iterable

from hostaway_pipeline import catalog
from hostaway_pipeline.catalog.marts import MARTS
from hostaway_pipeline.catalog.spec import StreamSpec

# Marts (tables computed in the warehouse, not fetched) and the entities they read.
MART_READS: dict[str, tuple[str, ...]] = {m.name: m.reads for m in MARTS}


def selectable() -> tuple[str, ...]:
    """Every name a selection may use, in catalog order, then the marts (read at call time, so
    an entity added to the catalog is selectable, and selected by default, with no other edit)."""
    return (*(s.name for s in catalog.CATALOG), *MART_READS)


class SelectionError(ValueError):
    """A selection names entities the catalog does not know; the message lists the known ones."""


def parse_names(text: str, source: str) -> frozenset[str] | None:
    """The names of a comma-separated selection; None for "all" (or nothing).

    `source` names where the text came from (e.g. "HOSTAWAY_ENTITIES") for the error message.
    """
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or names == ["all"]:
        return None
    return check_names(names, source)


def check_names(names: Iterable[str], source: str) -> frozenset[str]:
    """`names` as a set, if every one is selectable; SelectionError naming the unknown ones."""
    chosen = frozenset(names)
    known = selectable()
    unknown = sorted(chosen - set(known))
    if unknown:
        raise SelectionError(
            f"{source}: unknown entit{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}; known: {', '.join(known)}"
        )
    if not chosen:
        raise SelectionError(f"{source}: name at least one entity (or use all)")
    return chosen


def _by_name() -> dict[str, StreamSpec]:
    return {s.name: s for s in catalog.CATALOG}


def with_dependencies(names: Iterable[str]) -> frozenset[str]:
    """`names` and everything they need to be synced (see the module's docstring)."""
    specs = _by_name()
    todo, done = list(names), set[str]()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        todo.extend(MART_READS.get(name, ()))
        spec = specs.get(name)
        if spec is None:
            continue
        if spec.parent is not None:
            todo.append(spec.parent.name)
        if not spec.standalone:  # listed by its child's step only: that child comes with it
            todo.extend(s.name for s in catalog.CATALOG if s.parent is spec)
    return frozenset(done)


def resolve(default: frozenset[str] | None, override: frozenset[str] | None) -> frozenset[str]:
    """The entities to sync: the account's override, else the default (None: everything),
    with their dependencies."""
    chosen = override if override is not None else default
    return frozenset(selectable()) if chosen is None else with_dependencies(chosen)


def stored_text(names: frozenset[str] | None) -> str | None:
    """How an account's override is stored (sorted, comma-separated); None for "all"."""
    return None if names is None else ",".join(sorted(names))
