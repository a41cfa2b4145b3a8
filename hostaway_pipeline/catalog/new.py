"""Scaffold a new entity: every file an entity needs, written or regenerated in one command.

    python -m hostaway_pipeline.catalog.new guest_surveys --path /guestSurveys --area account \
        --field listing_map_id:listingMapId:BIGINT --database-url postgresql+psycopg://.../scratch

Writes (docs/CATALOG.md, "Adding an entity", lists the same files):
1. the spec, in `hostaway_pipeline/catalog/<area>.py` (an account-wide whole list read when due,
   listed in that module's ENTITIES);
2. the sandbox endpoint that serves it, in `hostaway_sandbox/catalog_<area>.py`, with seeded rows
   carrying its fields, and those fields in `hostaway_sandbox/catalog_fields.py`;
3. what Hostaway's docs say of it, in `hostaway_pipeline/catalog/documented.py` (a stub to fill in
   from the doc files);
then regenerates, each by its own command: the migration (`warehouse.revision`, on the scratch
database given), the table of docs/CATALOG.md (`catalog.doc`) and of docs/HOSTAWAY_ENDPOINTS.md
(`catalog.documented`), and the asset-spec snapshot. Review the diff, fill in the stubs, commit.

The regeneration runs as subprocesses: the catalog imports nothing above it (import contracts).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AREAS = {"account": "OPERATIONS"}  # the areas the scaffold writes: the area constant they use
KINDS = {"INT": "int", "BIGINT": "int", "STR": "text", "BOOL": "bool", "DATE": "date",
         "DATETIME": "datetime", "DECIMAL": "float"}  # fmt: skip
SAMPLES = {"int": "ctx.id(k)", "text": 'f"{name} {k}"', "bool": "k % 2", "float": "10.0 * k",
           "date": 'f"2026-01-{k + 1:02d}"', "datetime": 'f"2026-01-{k + 1:02d} 10:00:00"'}  # fmt: skip


class ScaffoldError(ValueError):
    """The entity cannot be scaffolded as asked; the message says why."""


@dataclass(frozen=True)
class Field:
    column: str
    api: str
    kind: str  # a Kind member name

    @classmethod
    def parse(cls, text: str) -> Field:
        parts = text.split(":")
        if len(parts) != 3 or parts[2] not in KINDS:
            raise ScaffoldError(
                f"--field {text!r}: give column:apiName:KIND, KIND one of {list(KINDS)}"
            )
        return cls(*parts)


def _edit(path: Path, before: str, insert: str, *, last: bool = False) -> None:
    """Insert `insert` before the first (or last) occurrence of `before` in the file."""
    text = path.read_text()
    at = text.rfind(before) if last else text.find(before)
    if at < 0:
        raise ScaffoldError(f"{path}: cannot find {before!r} to insert before")
    path.write_text(text[:at] + insert + text[at:])


def write_files(root: Path, name: str, path: str, area: str, fields: list[Field]) -> list[Path]:
    """The spec, the sandbox endpoint and fields, the documented stub; returns the files written."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(f"{name!r}: an entity name is a lower_snake_case table name")
    if area not in AREAS:
        raise ScaffoldError(
            f"--area {area!r}: the scaffold writes account-wide lists ({list(AREAS)})"
        )
    if not path.startswith("/"):
        raise ScaffoldError(f"--path {path!r}: the API path under /v1, starting with /")
    pkg, box = root / "hostaway_pipeline" / "catalog", root / "hostaway_sandbox"
    spec_file = pkg / f"{area}.py"
    if (
        re.search(rf'^\s*"{name}",', spec_file.read_text(), re.M)
        or f'"{name}"' in (box / "catalog_fields.py").read_text()
    ):
        raise ScaffoldError(f"{name!r} is already in the catalog")
    const = name.upper()
    cols = "".join(f'    f("{x.column}", "{x.api}", Kind.{x.kind}),\n' for x in fields)
    title = name.replace("_", " ").capitalize()
    spec = (
        f'{const} = whole_list(\n    "{name}",\n    "{path}",\n{cols}    area={AREAS[area]},\n'
        f"    cadence=Cadence.WARM,\n"
        f'    description="{title} (GET /v1{path}).",\n)\n'
    )
    _edit(spec_file, "\nENTITIES = (", "\n" + spec)
    spec_file.write_text(spec_file.read_text() + f"ENTITIES = (*ENTITIES, {const})\n")

    seed = f"_seed_{name}"
    values = ", ".join(f'"{x.api}": {SAMPLES[KINDS[x.kind]]}' for x in fields)
    sandbox_file = box / f"catalog_{area}.py"
    named = any(KINDS[x.kind] == "text" for x in fields)
    body = (f'    name = "{title}"\n' if named else "") + (
        f'    return [{{"id": ctx.id(k), {values}}} for k in range(3)]\n'
    )
    _edit(
        sandbox_file, "\ndef endpoints()", f"\ndef {seed}(ctx: SeedContext) -> list[Row]:\n{body}\n"
    )
    endpoint = f'        Endpoint("{name}", "/v1{path}", {seed}),\n'
    _edit(sandbox_file, "    ]  # fmt: skip", endpoint, last=True)
    typed = ", ".join(f'"{x.api}": "{KINDS[x.kind]}"' for x in fields)
    _edit(box / "catalog_fields.py", "}  # fmt: skip", f'    "{name}": {{"id": "int", {typed}}},\n')

    documented = pkg / "documented.py"
    stub = f'    "{name}": _d("", UNPAGED, assumes="scaffolded: fill in from the doc files"),\n'
    text = documented.read_text()
    start = text.find("DOCUMENTED: dict[str, Documented] = {")
    end = text.find("\n}", start) + 1
    if start < 0 or end <= 0:
        raise ScaffoldError(f"{documented}: cannot find the DOCUMENTED table")
    documented.write_text(text[:end] + stub + text[end:])
    return [spec_file, sandbox_file, box / "catalog_fields.py", documented]


def _run(root: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *argv], cwd=root, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(root), **(env or {})},
    )  # fmt: skip
    if done.returncode != 0:
        raise ScaffoldError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _replace_table(doc: Path, table: str) -> None:
    """Swap the Markdown table that starts with `table`'s header line for `table`."""
    text, head = doc.read_text(), table.splitlines()[0]
    start = text.index(head)
    end = text.find("\n\n", start)
    doc.write_text(text[:start] + table.rstrip("\n") + (text[end:] if end >= 0 else "\n"))


def regenerate(root: Path, name: str, database_url: str) -> list[Path]:
    """The migration, the two doc tables and the asset-spec snapshot; returns what changed."""
    written = [Path(_run(root, "-m", "hostaway_pipeline.warehouse.revision", f"add {name}",
                         "--database-url", database_url).strip().splitlines()[-1])]  # fmt: skip
    for module, doc in (("doc", "CATALOG.md"), ("documented", "HOSTAWAY_ENDPOINTS.md")):
        _replace_table(root / "docs" / doc, _run(root, "-m", f"hostaway_pipeline.catalog.{module}"))
        written.append(root / "docs" / doc)
    snapshot = "hostaway_pipeline_tests/defs/test_asset_snapshot.py"
    _run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", snapshot,
         env={"HOSTAWAY_UPDATE_SNAPSHOTS": "1"})  # fmt: skip
    written.append(root / "hostaway_pipeline_tests" / "defs" / "snapshots" / "asset_specs.json")
    _run(root, "-m", "ruff", "format", "--quiet", str(written[0]))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hostaway_pipeline.catalog.new")
    parser.add_argument("name", help="the entity's table name, e.g. guest_surveys")
    parser.add_argument("--path", required=True, help="its API path under /v1, e.g. /guestSurveys")
    parser.add_argument("--area", required=True, choices=sorted(AREAS))
    parser.add_argument("--field", action="append", default=[], metavar="COLUMN:apiName:KIND")
    parser.add_argument("--database-url", default=os.environ.get("HOSTAWAY_DATABASE_URL"),
                        help="a scratch PostgreSQL the migration is generated against")  # fmt: skip
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to write into")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set HOSTAWAY_DATABASE_URL (a scratch PostgreSQL)")
    try:
        fields = [Field.parse(x) for x in args.field]
        files = write_files(args.root, args.name, args.path, args.area, fields)
        files += regenerate(args.root, args.name, args.database_url)
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(str(p.relative_to(args.root)) for p in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
