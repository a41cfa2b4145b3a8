"""Results on disk: results.json (every scenario, merged across runs) and results.md (tables)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from benchmarks.results_model import Measure, ScenarioResult


def to_json(result: ScenarioResult) -> dict[str, Any]:
    return dataclasses.asdict(result)


def from_json(data: dict[str, Any]) -> ScenarioResult:
    measures = [Measure(**m) for m in data.pop("measures", [])]
    return ScenarioResult(measures=measures, **data)


def save(out: Path, results: list[ScenarioResult], meta: dict[str, Any]) -> str:
    """Merge `results` into out/results.json (by scenario id), rewrite out/results.md; the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    previous: dict[int, dict[str, Any]] = {}
    if path.exists():
        old = json.loads(path.read_text())
        previous = {int(s["id"]): s for s in old.get("scenarios", [])}
    for r in results:
        previous[r.id] = to_json(r) | {"meta": meta}
    merged = [
        from_json({k: v for k, v in s.items() if k != "meta"}) for _, s in sorted(previous.items())
    ]
    metas = {sid: s.get("meta", {}) for sid, s in previous.items()}
    path.write_text(
        json.dumps({"scenarios": [previous[k] for k in sorted(previous)]}, indent=2) + "\n"
    )
    text = markdown(merged, metas)
    (out / "results.md").write_text(text)
    return text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _met(m: Measure) -> str:
    if m.met is None:
        return ""
    return "yes" if m.met else "**MISSED**"


def summary_table(results: list[ScenarioResult]) -> str:
    lines = ["| # | scenario | measure | value | target | met |", "|---|---|---|---|---|---|"]
    for r in results:
        if r.error:
            lines.append(f"| {r.id} | {r.title} | error | {r.error[:120]} | | **FAILED** |")
        for m in r.measures:
            value = f"{_fmt(m.value)}{m.unit}" if m.value is not None else "n/a"
            lines.append(f"| {r.id} | {r.title} | {m.name} | {value} | {m.target} | {_met(m)} |")
    return "\n".join(lines)


def details_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    cols: list[str] = []
    for row in rows:
        cols.extend(c for c in row if c not in cols)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in cols) + " |")
    return "\n".join(lines)


def markdown(results: list[ScenarioResult], metas: dict[int, dict[str, Any]]) -> str:
    parts = ["# Benchmark results", ""]
    if any(m.get("mode") == "smoke" for m in metas.values()):
        parts += ["_Smoke run: scaled down, 1 s rate window; targets not evaluated._", ""]
    parts += [summary_table(results), ""]
    for r in results:
        meta = metas.get(r.id, {})
        parts += [f"## {r.id}. {r.title}", ""]
        when = ", ".join(f"{k}: {v}" for k, v in meta.items())
        if when:
            parts += [f"_Run {when}; took {r.duration_s:.0f} s._", ""]
        if r.settings:
            parts += ["Settings: " + "; ".join(f"{k} {_fmt(v)}" for k, v in r.settings.items()), ""]
        if r.details:
            parts += [details_table(r.details), ""]
        parts += [f"- {n}" for n in r.notes]
        if r.error:
            parts += [f"- **Error:** {r.error}"]
        parts.append("")
    return "\n".join(parts)
