"""From what the readers found to a draft model (the same :class:`~threatmodel.system.draft.Draft`
that ``import`` writes) and to the snapshot ``drift`` compares against later.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from threatmodel.system.draft import Draft, Entity, IdMaker
from threatmodel.core.safe_paths import path_problem
from threatmodel.discover.project import Inventory, K, Thing, printable, tables

SNAPSHOT_FORMAT = "threatmodel-discovery"
SNAPSHOT_VERSION = 1
BOUNDARY = "project"
# kinds that run the project's own code (libraries feed these)
ORDER = ("deps", "hub", "source", "data", "model", "registered", "registry", "store", "stage", "nb", "code",
         "service", "gateway", "vector", "retr", "memory", "ai", "ext", "tool", "mcp", "cred")
ATTRIBUTE_ORDER = ("technology", "description", "origin", "exposure", "authenticated", "format", "purpose", "pinned",
                   "untrusted_content", "capabilities", "paths")


def _sort_key(thing: Thing) -> tuple[int, str]:
    prefix = thing.key.split(":", 1)[0]
    return (ORDER.index(prefix) if prefix in ORDER else len(ORDER), thing.key)


def link_libraries(inventory: Inventory) -> None:
    """Every dependency list feeds the project's code; imports no list declares become one more
    (unpinned) library."""
    code_kinds = set(tables()["code_kinds"])
    runners = [t for t in inventory.things.values() if t.kind in code_kinds and not t.third_party and (
        t.key.startswith(("stage:", "code:", "nb:")) or t.facts.get("dockerfiles"))]
    libraries = [t for t in inventory.things.values() if t.key.startswith("deps:")]
    if not libraries:
        imported = sorted(set().union(*(t.facts.get("imports", set()) for t in runners))) if runners else []
        if imported:
            thing = inventory.add("deps:imports", K.dependencies, "Python packages the code imports", "")
            thing.values["technology"] = f"{', '.join(imported)} (imported modules without a dependency file)"[:4000]
            thing.note("pinned", False, "no requirements, pyproject or environment file declares them")
            thing.facts.update(packages={name: "" for name in imported}, pinned=False)
            libraries = [thing]
    for library in libraries:
        for runner in runners:
            inventory.flow(library.key, runner.key, "imported code")


def _path_for(root: Path, rel: str, base: Path) -> tuple[str | None, str]:
    """A declared path for a project file: relative to the model's folder when the project is
    inside it, else absolute; None (and why) when our format cannot name it."""
    absolute = root if rel in ("", ".") else root / rel
    if "://" in rel or rel.startswith(("pvc:", "gs:", "s3:")):
        return None, f"'{printable(rel)}' is a remote location, not a path on this machine"
    problem = path_problem(str(absolute))
    if problem:
        return None, f"'{printable(rel)}' {problem}"
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return str(absolute), ""
    text = relative.as_posix()
    return (text if text not in ("", ".") else str(absolute)), ""


def build_draft(inventory: Inventory, base: Path, name: str) -> tuple[Draft, dict[str, str]]:
    """The draft and, for each thing's key, the id it was written under."""
    root = inventory.project.root
    draft = Draft("discover", root.name, {"name": name, "description": f"Drafted by threatmodel discover from the "
                                                                       f"project folder {root.name}."})
    ids = IdMaker()
    draft.boundaries.append(Entity({"id": ids.make(BOUNDARY, BOUNDARY, "boundary"), "name": f"{name} (project)",
                                    "trust": "internal"},
                                   {"trust": "guessed: everything found in the project runs in one internal "
                                             "environment; split it into the zones you really have"}))
    written: dict[str, str] = {}
    things = sorted(inventory.things.values(), key=_sort_key)
    for thing in things:
        written[thing.key] = ids.make(thing.key, _slug_source(thing), "component")
    for thing in things:
        values: dict[str, Any] = {"id": written[thing.key], "kind": thing.kind, "name": thing.name}
        notes: dict[str, str] = {}
        found = ", ".join(printable(s) for s in thing.seen[:3]) + (" …" if len(thing.seen) > 3 else "")
        notes["kind"] = "; ".join(p for p in (thing.notes.get("kind", ""), f"found in {found}" if found else "") if p)
        if not thing.third_party:
            values["boundary"] = BOUNDARY
        for attribute in ATTRIBUTE_ORDER:
            if attribute not in thing.values:
                continue
            value = thing.values[attribute]
            if attribute == "paths":
                paths = []
                for rel in value:
                    declared, problem = _path_for(root, rel, base)
                    if declared:
                        paths.append(declared)
                    elif problem:
                        draft.lost.append(f"{thing.name}: path {problem}")
                if not paths:
                    continue
                value = paths
                sizes = _sizes(thing)
                if sizes:
                    notes["paths"] = sizes
            values[attribute] = value
            if attribute in thing.notes:
                notes[attribute] = thing.notes[attribute]
        draft.components.append(Entity(values, {k: v for k, v in notes.items() if v}))
    for (source, target), (label, both) in sorted(inventory.flows.items()):
        flow: dict[str, Any] = {"from": written[source], "to": written[target]}
        if label:
            flow["name"] = label
        if both:
            flow["bidirectional"] = True
        draft.flows.append(Entity(flow, {}))
    project = inventory.project
    draft.lost.extend(project.skipped)
    if project.truncated:
        draft.lost.append(f"the project holds more than {len(project.files):,} files; discovery stopped there "
                          "(set THREATMODEL_DISCOVER_MAX_FILES to read more)")
    return draft, written


def _slug_source(thing: Thing) -> str:
    base = thing.key.split(":", 1)[-1].rsplit("/", 1)[-1]
    prefix = str(tables()["id_prefixes"].get(thing.key.split(":")[0], ""))
    base = base.rsplit(":", 1)[-1]
    for ending in (".py", ".ipynb", ".txt", ".toml", ".yaml", ".yml"):
        base = base.removesuffix(ending)
    if thing.key == "registry:mlflow":
        return "mlflow-registry"
    if thing.key.startswith("ai:"):
        return thing.name
    return f"{prefix}-{base}" if prefix and base and not base.startswith(prefix) else (base or prefix or "component")


def _sizes(thing: Thing) -> str:
    files = thing.facts.get("files")
    if not isinstance(files, dict) or not files:
        count = thing.facts.get("file_count")
        return (f"{count:,} file{'s' if count != 1 else ''}, {thing.facts.get('bytes', 0):,} bytes") if count else ""
    parts = []
    for rel, entry in list(files.items())[:3]:
        digest = entry.get("sha256")
        parts.append(f"{printable(rel.rsplit('/', 1)[-1])}: {entry.get('size', 0):,} bytes"
                     + (f", sha256 {digest[:16]}…" if digest else ", not hashed"))
    if len(files) > 3:
        parts.append(f"… {len(files) - 3} more in the snapshot")
    return "; ".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def snapshot(inventory: Inventory, written: dict[str, str]) -> dict[str, Any]:
    """What discovery saw, for ``drift`` to compare with later (deterministic: no times)."""
    items = {}
    for key, thing in sorted(inventory.things.items()):
        items[key] = _plain({"id": written.get(key, ""), "kind": thing.kind, "name": thing.name,
                             "seen": thing.seen[:20], "facts": thing.facts,
                             "values": {k: v for k, v in thing.values.items() if k in ("format", "pinned", "exposure",
                                                                                        "authenticated", "paths")}})
    return {"format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, "project": inventory.project.root.name,
            "items": items}


def relative_base(output: Path | None) -> Path:
    if output is None or str(output) == "-":
        return Path(os.getcwd()).resolve()
    return output.resolve().parent


def snapshot_path(model: Path) -> Path:
    """Where discover keeps what it saw, beside the model: MODEL.discovered.json."""
    return model.with_name(f"{model.stem}.discovered.json")
