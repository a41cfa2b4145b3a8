"""What a scenario reports: headline measures against their targets, detail rows and notes."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}


@dataclass
class Measure:
    """One headline number; `met` is None when it has no target."""

    name: str
    value: Any
    unit: str = ""
    target: str = ""
    met: bool | None = None


def measure(
    name: str, value: Any, unit: str = "", op: str | None = None, bound: Any = None
) -> Measure:
    """A measure, checked against `op bound` when given (e.g. op="<=", bound=1.10)."""
    if op is None:
        return Measure(name, value, unit)
    met = value is not None and _OPS[op](value, bound)
    shown = f"{bound:,}" if isinstance(bound, int) and not isinstance(bound, bool) else bound
    return Measure(name, value, unit, f"{op} {shown}{unit}", bool(met))


@dataclass
class ScenarioResult:
    id: int
    title: str
    measures: list[Measure] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None
