"""Has the project moved away from its model? Compares a declared model, and the snapshot of
what ``discover`` saw last time (MODEL.discovered.json, when there is one), with what a new
discovery finds now.

Three kinds of drift, each with the place in the project where it was seen:

- **added**: in the project, not in the model: a new notebook, model file, dependency, hub
  model, pipeline step, service, registered model version, credential in code;
- **changed**: a file's SHA-256 differs from the snapshot, a model file's bytes are another
  format than declared (``.safetensors`` → pickle), a hub model is now loaded with
  ``trust_remote_code``, a new pickle-based load, dependencies no longer pinned, a service now
  exposed;
- **removed**: a declared artifact path under the project no longer exists, or something the
  snapshot recorded is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.vocabulary import DRIFT_THRESHOLDS
from threatmodel.discover.project import Inventory, K, Thing, kind_titles, printable, runs_code

Category = Literal["added", "changed", "removed"]
CATEGORIES: tuple[Category, ...] = ("added", "changed", "removed")
THRESHOLDS = {"added": {"added"}, "changed": {"changed", "removed"}, "any": set(CATEGORIES)}
assert tuple(sorted(THRESHOLDS)) == tuple(sorted(DRIFT_THRESHOLDS))


@dataclass(frozen=True, order=True)
class DriftItem:
    category: Category
    subject: str  # what drifted: a path, a package, a component
    message: str
    where: str = ""  # "file:line" in the project, when known
    component: str = ""  # the model's component id, when one is concerned
    security: bool = False  # the change makes a threat likelier (a code-running format, remote code, …)

    def to_dict(self) -> dict[str, Any]:
        file, _, line = self.where.partition(":")
        return {"category": self.category, "subject": self.subject, "message": self.message, "where": self.where,
                "file": file if self.where and not self.where.startswith("--") else "",
                "line": int(line) if line.isdigit() else 0, "component": self.component, "security": self.security}


@dataclass
class DriftReport:
    model: str
    project: str
    baseline: str  # the snapshot file compared with, or ""
    items: list[DriftItem] = field(default_factory=list)
    # what was compared, for accepting the project as it is now (see accepted_snapshot)
    system: Any = field(default=None, repr=False, compare=False)
    inventory: Inventory | None = field(default=None, repr=False, compare=False)
    previous: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def count(self, category: str) -> int:
        return sum(1 for item in self.items if item.category == category)

    def failing(self, threshold: str) -> list[DriftItem]:
        wanted = THRESHOLDS[threshold]
        return [item for item in self.items if item.category in wanted]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "threatmodel-drift", "version": 1, "model": self.model, "project": self.project,
                "baseline": self.baseline, "counts": {c: self.count(c) for c in CATEGORIES},
                "items": [item.to_dict() for item in self.items]}


def read_snapshot(path: Path) -> dict[str, Any]:
    from threatmodel.core.located_yaml import load_yaml_file

    document = load_yaml_file(path)
    where = getattr(document, "location", Location(str(path), 1, 1))
    if not isinstance(document, dict) or document.get("format") != "threatmodel-discovery":
        raise InputError([Diagnostic(where, "not a discovery snapshot (expected \"format\": \"threatmodel-discovery\", "
                                            "as threatmodel discover -o writes)")])
    if document.get("version") != 1 or not isinstance(document.get("items"), dict):
        raise InputError([Diagnostic(where, "unsupported snapshot version (expected version 1 with an 'items' mapping)")])
    for key, item in document["items"].items():
        if not isinstance(item, dict) or not isinstance(item.get("facts", {}), dict):
            raise InputError([Diagnostic(getattr(item, "location", where), f"item '{printable(str(key))}' is not a mapping "
                                                                            "with 'facts'")])
    return dict(document)


def _words(component: Any) -> str:
    return " ".join(str(getattr(component, a, "") or "") for a in ("id", "name", "technology", "description")).lower()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Model:
    """The declared model, indexed for matching."""

    def __init__(self, system: Any, root: Path) -> None:
        self.components = list(system.components)
        self.by_id = {c.id: c for c in self.components}
        self.root = root
        self.paths: list[tuple[str, Any]] = []  # (path relative to the project, or absolute, component)
        for component in self.components:
            for declared in component.paths:
                self.paths.append((self.relative(declared), component))

    def relative(self, declared: str) -> str:
        path = Path(declared)
        try:
            return path.relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(path)

    def covering(self, rel: str) -> Any:
        best = None
        for declared, component in self.paths:
            if declared == rel or declared == "." or rel.startswith(declared.rstrip("/") + "/"):
                if best is None or len(declared) > len(best[0]):
                    best = (declared, component)
        return best[1] if best else None

    def mentioning(self, text: str, kinds: tuple[str, ...] = ()) -> Any:
        text = text.lower()
        for component in self.components:
            if (not kinds or component.kind in kinds) and text and text in _words(component):
                return component
        return None

    def packages(self) -> set[str]:
        names: set[str] = set()
        for component in self.components:
            if component.kind != K.dependencies:
                continue
            for part in re.split(r",|;|/|\band\b|\s+from\s+|\s", _words(component)):
                if part.strip():
                    names.add(_norm(part.strip()))
        return names


def _match(thing: Thing, model: _Model, known_id: str) -> Any:
    if known_id and known_id in model.by_id:
        return model.by_id[known_id]
    for rel in thing.values.get("paths", []):
        component = model.covering(rel)
        if component is not None:
            return component
        for declared, candidate in model.paths:  # the model names a file inside a discovered folder
            if rel == "." or declared.startswith(rel.rstrip("/") + "/"):
                return candidate
    prefix, _, rest = thing.key.partition(":")
    if prefix == "hub":
        return model.mentioning(rest) or model.mentioning(rest.rsplit("/", 1)[-1], (K.hub_model, K.model_hub))
    if prefix == "registered":
        return model.mentioning(rest, (K.model_file, K.registry, K.hub_model))
    if prefix == "registry":
        return next((c for c in model.components if c.kind == K.registry), None)
    if prefix == "deps":
        file_name = rest.split(" (")[0].rsplit("/", 1)[-1]
        if model.mentioning(file_name, (K.dependencies,)):
            return model.mentioning(file_name, (K.dependencies,))
        packages = set(thing.facts.get("packages", {}))
        return next((c for c in model.components if c.kind == K.dependencies and
                     packages & {_norm(w) for w in re.split(r"[,;/\s]+", _words(c)) if w}), None)
    if prefix == "ai":
        provider = rest.split(":")[0].split(" ")[0]
        return model.mentioning(provider, (K.hosted_llm, K.outside_service)) or next(
            (c for c in model.components if c.kind == thing.kind), None)
    if prefix in ("vector", "retr", "tool", "mcp", "source"):
        return model.mentioning(thing.name.split(" ")[0], (thing.kind,)) or next(
            (c for c in model.components if c.kind == thing.kind), None)
    name = thing.name.lower()
    for component in model.components:
        if component.id == known_id or (component.name or "").lower() == name or component.id == _norm(rest.rsplit(":", 1)[-1]):
            return component
    return None


def _first(thing: Thing) -> str:
    return thing.seen[0] if thing.seen else ""


def compare(system: Any, model_path: Path, inventory: Inventory, snapshot: dict[str, Any] | None,
            baseline_name: str = "") -> DriftReport:
    root = inventory.project.root
    model = _Model(system, root)
    previous: dict[str, Any] = dict(snapshot["items"]) if snapshot else {}
    report = DriftReport(str(model_path), str(root), baseline_name, system=system, inventory=inventory,
                         previous=snapshot)
    items: list[DriftItem] = []
    for key, thing in sorted(inventory.things.items()):
        before = previous.get(key)
        component = _match(thing, model, str(before.get("id", "")) if isinstance(before, dict) else "")
        if component is None:
            items.append(DriftItem("added", thing.name, f"{_kind(thing)} the model does not declare", _first(thing),
                                   security=thing.kind in (K.credentials, K.hub_model) or bool(
                                       thing.facts.get("runs_remote_code"))))
            continue
        items.extend(_changes(thing, component, before if isinstance(before, dict) else None, model))
    for key, before in sorted(previous.items()):
        if key not in inventory.things and isinstance(before, dict):
            seen = before.get("seen") or [""]
            items.append(DriftItem("removed", str(before.get("name", key)),
                                   f"{before.get('kind', 'component')} recorded last time is no longer in the project",
                                   str(seen[0]) if isinstance(seen, list) and seen else "", str(before.get("id", ""))))
    for declared, component in model.paths:
        if declared.startswith("/") or declared == ".":
            continue  # outside this project: not ours to check
        if not (root / declared).exists() and not _tracked_elsewhere(inventory, declared):
            items.append(DriftItem("removed", declared, f"declared in {component.id} but no longer in the project",
                                   "", component.id))
    report.items = sorted(set(items), key=lambda i: (CATEGORIES.index(i.category), i.subject, i.message))
    return report


def _tracked_elsewhere(inventory: Inventory, declared: str) -> bool:
    """A path DVC tracks is absent from a clone by design (it lives in the DVC cache)."""
    thing = inventory.covering(declared)
    return thing is not None and thing.facts.get("tracked_by") == "DVC"


def _kind(thing: Thing) -> str:
    """'a notebook', 'an inference service': the kind's title from the catalog."""
    title = kind_titles().get(thing.kind, thing.kind).lower()
    return f"{'an' if title[:1] in 'aeiou' else 'a'} {title}"


def _changes(thing: Thing, component: Any, before: dict[str, Any] | None, model: _Model) -> list[DriftItem]:
    items: list[DriftItem] = []
    cid = component.id
    where = _first(thing)
    facts = thing.facts
    old = before.get("facts", {}) if before else {}
    # model files: format and bytes
    declared_format = getattr(component, "format", None)
    found_format = thing.values.get("format")
    if declared_format and found_format and declared_format != found_format and thing.kind in (
            K.model_file, K.hub_model):
        worse = runs_code(found_format) and not runs_code(declared_format)
        reason = thing.notes.get("format", "")
        items.append(DriftItem("changed", thing.name, f"the model declares format {declared_format}; the project now "
                                                      f"has {found_format}" + (f" ({reason})" if reason else ""),
                               where, cid, worse))
    files = facts.get("files") if isinstance(facts.get("files"), dict) else {}
    old_files = old.get("files") if isinstance(old.get("files"), dict) else {}
    for rel, entry in sorted(files.items()):
        was = old_files.get(rel)
        if before is not None and was is None:
            items.append(DriftItem("added", rel, f"a new file in {cid}", rel, cid, runs_code(entry.get("format"))))
        elif isinstance(was, dict):
            if was.get("sha256") and entry.get("sha256") and was["sha256"] != entry["sha256"]:
                items.append(DriftItem("changed", rel, f"the file's SHA-256 changed since the snapshot "
                                                       f"({was['sha256'][:12]}… → {entry['sha256'][:12]}…)", rel, cid, True))
            if was.get("format") and entry.get("format") and was["format"] != entry["format"]:
                items.append(DriftItem("changed", rel, f"the file's format changed from {was['format']} to {entry['format']}",
                                       rel, cid, runs_code(entry["format"]) and not runs_code(was["format"])))
    for rel in sorted(set(old_files) - set(files)):
        items.append(DriftItem("removed", rel, f"a file recorded in {cid} last time is gone", "", cid))
    # code that runs what it loads
    if facts.get("runs_remote_code") and not old.get("runs_remote_code") and (before is not None or declared_format != "other"):
        items.append(DriftItem("changed", thing.name, "now loaded with trust_remote_code=True (or through torch.hub): "
                                                      "loading runs the model repository's code", where, cid, True))
    new_loads = sorted({w.split(":")[0].split(" (")[0] for w in facts.get("unsafe_loads", [])} -
                       {w.split(":")[0].split(" (")[0] for w in old.get("unsafe_loads", [])}) if before is not None else []
    for rel in new_loads:
        at = next(w for w in facts["unsafe_loads"] if w.startswith(rel))
        items.append(DriftItem("changed", thing.name, "a new pickle-based load (code in the loaded file runs)", at, cid, True))
    # dependencies
    if thing.kind == K.dependencies:
        packages = facts.get("packages", {})
        known = set(old.get("packages", {})) if before is not None else model.packages()
        for name in sorted(set(packages) - known):
            items.append(DriftItem("added", name, f"a new dependency in {thing.key.split(':', 1)[1]}"
                                                  f"{(' (' + packages[name] + ')') if packages[name] else ''}",
                                   thing.key.split(":", 1)[1].split(" (")[0], cid))
        if getattr(component, "pinned", None) is True and thing.values.get("pinned") is False:
            items.append(DriftItem("changed", thing.name, f"the model says pinned, but {thing.notes.get('pinned', 'not every package is pinned')}",
                                   where, cid, True))
        elif old.get("pinned") is True and thing.values.get("pinned") is False:
            items.append(DriftItem("changed", thing.name, f"no longer pinned: {thing.notes.get('pinned', '')}", where, cid, True))
    # exposure
    if thing.values.get("exposure") == "public" and getattr(component, "exposure", None) == "internal":
        items.append(DriftItem("changed", thing.name, f"the model says internal; {thing.notes.get('exposure', 'the project exposes it')}",
                               where, cid, True))
    # registry versions
    versions = facts.get("versions") if isinstance(facts.get("versions"), dict) else {}
    old_versions = old.get("versions") if isinstance(old.get("versions"), dict) else None
    if old_versions is not None:
        for number in sorted(set(versions) - set(old_versions), key=lambda v: int(v) if v.isdigit() else 0):
            labels = ", ".join(versions[number].get("aliases") or []) or versions[number].get("stage", "")
            items.append(DriftItem("added", f"{thing.name} version {number}",
                                   f"a new model version{(' (' + labels + ')') if labels and labels != 'None' else ''}, "
                                   f"stored at {versions[number].get('source', '?')}", where, cid))
        for number in sorted(set(versions) & set(old_versions)):
            if versions[number].get("source") != old_versions[number].get("source"):
                items.append(DriftItem("changed", f"{thing.name} version {number}", "the version's files moved to "
                                       f"{versions[number].get('source')}", where, cid, True))
            if versions[number].get("aliases") != old_versions[number].get("aliases"):
                items.append(DriftItem("changed", f"{thing.name} version {number}",
                                       f"aliases changed: {old_versions[number].get('aliases')} → {versions[number].get('aliases')}",
                                       where, cid))
    return items


def accepted_snapshot(report: DriftReport) -> dict[str, Any]:
    """The project as it is now, as the new snapshot (``drift --accept``): things the model
    already declares keep the model's own names."""
    from threatmodel.discover.draft import build_draft, relative_base, snapshot

    assert report.inventory is not None and report.system is not None
    _, ids = build_draft(report.inventory, relative_base(Path(report.model)), report.system.info.name)
    known = {c.id for c in report.system.components}
    for key, item in (report.previous or {}).get("items", {}).items():
        if key in ids and isinstance(item, dict) and item.get("id") in known:
            ids[key] = str(item["id"])
    return snapshot(report.inventory, ids)

