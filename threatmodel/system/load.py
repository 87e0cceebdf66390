"""Load a system description: follow includes, validate, check references, apply defaults.

Every problem in every file is collected and reported at once with its location. The result is
a :class:`System` in which every component attribute has a value (said in the YAML, else the
kind's default, else the global default) and a map from each entity id to where it was written.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from threatmodel.catalog.model import Kind
from threatmodel.core.errors import Diagnostic, DiagnosticSink, InputError, Location, did_you_mean
from threatmodel.core.located_yaml import YamlMap, file_problem, load_mapping, locate
from threatmodel.core.safe_paths import path_problem
from threatmodel.system.model import ATTRIBUTE_NAMES, MODEL_FORMATS, Component, System, SystemDocument
from threatmodel.core.diagnostics import diagnostics_from

SECTIONS = ("boundaries", "components", "flows", "data", "actors", "exclusions")
MAX_INCLUDE_DEPTH = 16


@dataclass
class _Part:
    """One file of the model: its located YAML and its validated content."""

    name: str
    document: YamlMap
    content: SystemDocument
    folder: Path  # relative artifact paths are resolved against the folder of the file that declares them

    def at(self, *path: Any) -> Location:
        return locate(self.document, tuple(path)) or Location(self.name, 1, 1)


@dataclass
class LoadedSystem:
    system: System
    warnings: list[Diagnostic] = field(default_factory=list)
    locations: dict[str, Location] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    exclusion_locations: list[Location] = field(default_factory=list)
    path: str = ""  # the model file as given


def load_system(path: Path, kinds: dict[str, Kind], display_name: str | None = None,
                formats: Collection[str] = MODEL_FORMATS) -> LoadedSystem:
    """Load, merge and check a model; ``kinds`` and ``formats`` are those of the catalog in use."""
    sink = DiagnosticSink()
    parts: list[_Part] = []
    name = display_name or str(path)
    if str(path) == "-":
        resolved = Path("-")
        root = Path.cwd().resolve()
    else:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop
            raise InputError([Diagnostic(Location(name), "cannot read: a symbolic link loop")]) from None
        root = resolved.parent
    _load_part(resolved, name, root, parts, [], sink, set())
    if not parts:
        sink.raise_if_errors()
    main = parts[0]
    if main.content.system is None and not any(d.location.file == main.name for d in sink.diagnostics):
        sink.error(main.at(), "missing required field 'system' (the system's name and description)")
    for part in parts[1:]:
        if part.content.system is not None:
            sink.error(part.at("system"), "only the main model file may define 'system'")
    sink.raise_if_errors()
    system, locations = _merge(parts, kinds, formats, sink)
    sink.raise_if_errors()
    _warn(system, parts, kinds, sink)
    exclusion_locations = [part.at("exclusions", index, "threat")
                           for part in parts for index in range(len(part.content.exclusions))]
    return LoadedSystem(system, sink.warnings, locations, [p.name for p in parts], exclusion_locations, str(path))


def _load_part(path: Path, name: str, root: Path, parts: list[_Part], chain: list[Path],
               sink: DiagnosticSink, visited: set[Path]) -> None:
    visited.add(path)
    try:
        document = load_mapping(path, name)
    except InputError as exc:
        sink.extend(exc.diagnostics)
        return
    try:
        content = SystemDocument.model_validate(document)
    except ValidationError as exc:
        sink.extend(diagnostics_from(exc, document, name, SystemDocument))
        return
    part = _Part(name, document, content, Path.cwd() if str(path) == "-" else path.parent)
    parts.append(part)
    for index, include in enumerate(content.include):
        where = part.at("include", index)
        target = _resolve_include(include, path, root, where, sink)
        if target is None:
            continue
        if target in chain + [path]:
            sink.error(where, f"include cycle: '{include}' is already being loaded "
                              f"({' -> '.join(p.name for p in chain + [path, target])})")
            continue
        if len(chain) >= MAX_INCLUDE_DEPTH:
            sink.error(where, f"includes nested deeper than {MAX_INCLUDE_DEPTH} levels")
            continue
        if target in visited:
            sink.error(where, f"'{include}' is included more than once")
            continue
        display = str(Path(name).parent / include)
        _load_part(target, display, root, parts, chain + [path], sink, visited)


def _resolve_include(include: str, current: Path, root: Path, where: Location,
                     sink: DiagnosticSink) -> Path | None:
    if Path(include).is_absolute() or include.startswith("~"):
        sink.error(where, f"include '{include}' must be a relative path")
        return None
    base = current.parent if str(current) != "-" else root
    try:
        target = (base / include).resolve()
    except (OSError, RuntimeError):
        sink.error(where, f"include '{include}': a symbolic link loop")
        return None
    if not target.is_relative_to(root):
        sink.error(where, f"include '{include}' points outside the model's folder")
        return None
    problem = file_problem(target)
    if problem == "no such file":
        sink.error(where, f"included file '{include}' does not exist")
        return None
    if problem:
        sink.error(where, f"include '{include}': {problem}")
        return None
    return target


def _merge(parts: list[_Part], kinds: dict[str, Kind], formats: Collection[str], sink: DiagnosticSink) -> tuple[System, dict[str, Location]]:
    """Join the parts, check every id and reference, and fill in attribute defaults."""
    where: dict[str, Location] = {}
    entities: dict[str, list[tuple[_Part, int, Any]]] = {section: [] for section in SECTIONS}
    for part in parts:
        for section in SECTIONS:
            for index, entity in enumerate(getattr(part.content, section)):
                entities[section].append((part, index, entity))

    def claim(entity_id: str, location: Location, what: str) -> None:
        if entity_id in where:
            sink.error(location, f"duplicate id '{entity_id}' ({what}; already used at {where[entity_id]})")
        else:
            where[entity_id] = location

    for section, what, key in (("boundaries", "boundary", "id"), ("components", "component", "id"),
                               ("data", "data asset", "id"), ("actors", "actor", "id")):
        for part, index, entity in entities[section]:
            claim(entity.id, part.at(section, index, key), what)
    for part, index, flow in entities["flows"]:
        location = part.at("flows", index, "id") if flow.id else part.at("flows", index)
        if flow.key in where and not flow.id:
            sink.error(location, f"a second flow from '{flow.source}' to '{flow.target}': give each an 'id'")
        else:
            claim(flow.key, location, "flow")

    boundaries = {b.id: b for _, _, b in entities["boundaries"]}
    relative_paths: dict[str, list[str]] = {}
    components = {c.id: c for _, _, c in entities["components"]}
    data_ids = {d.id for _, _, d in entities["data"]}

    def ref(value: str | None, known: Any, part: _Part, path: tuple[Any, ...], what: str) -> None:
        # the location is looked up only for an error: most references are fine
        if value is not None and value not in known:
            sink.error(part.at(*path), f"unknown {what} '{value}'{did_you_mean(value, known)}")

    for part, index, boundary in entities["boundaries"]:
        ref(boundary.parent, boundaries, part, ("boundaries", index, "parent"), "boundary")
        seen, current = {boundary.id}, boundary.parent
        while current in boundaries:
            if current in seen:
                sink.error(part.at("boundaries", index, "parent"), f"boundary '{boundary.id}' is nested in itself")
                break
            seen.add(current)
            current = boundaries[current].parent
    for part, index, component in entities["components"]:
        ref(component.kind, kinds, part, ("components", index, "kind"), "kind")
        ref(component.format, formats, part, ("components", index, "format"), "model format")
        absolute_paths = []
        for j, declared in enumerate(component.paths):
            absolute, problem = _absolute_path(declared, part.folder)
            if problem:
                sink.error(part.at("components", index, "paths", j), f"path {declared!r} {problem}")
            absolute_paths.append(absolute)
        if absolute_paths != list(component.paths):
            relative_paths[component.id] = absolute_paths
        ref(component.boundary, boundaries, part, ("components", index, "boundary"), "boundary")
        for j, data_id in enumerate(component.data):
            ref(data_id, data_ids, part, ("components", index, "data", j), "data asset")
    for part, index, flow in entities["flows"]:
        ref(flow.source, components, part, ("flows", index, "from"), "component")
        ref(flow.target, components, part, ("flows", index, "to"), "component")
        if flow.source == flow.target:
            sink.error(part.at("flows", index, "to"), f"flow from '{flow.source}' to itself")
        for j, data_id in enumerate(flow.data):
            ref(data_id, data_ids, part, ("flows", index, "data", j), "data asset")
    for part, index, actor in entities["actors"]:
        ref(actor.boundary, boundaries, part, ("actors", index, "boundary"), "boundary")
        for j, entered in enumerate(actor.enters):
            ref(entered, components, part, ("actors", index, "enters", j), "component")
    flow_keys = {f.key for _, _, f in entities["flows"]}
    for part, index, exclusion in entities["exclusions"]:
        ref(exclusion.element, set(components) | flow_keys, part, ("exclusions", index, "element"), "component or flow")

    resolved = [
        _with_defaults(component, kinds[component.kind]) if component.kind in kinds else component
        for _, _, component in entities["components"]
    ]
    resolved = [c.model_copy(update={"paths": relative_paths[c.id]}) if c.id in relative_paths else c
                for c in resolved]
    info = parts[0].content.system
    assert info is not None or sink.has_errors
    fields = dict(info=info, boundaries=list(boundaries.values()), components=resolved,
                  flows=[f for _, _, f in entities["flows"]], data=[d for _, _, d in entities["data"]],
                  exclusions=[e for _, _, e in entities["exclusions"]], actors=[a for _, _, a in entities["actors"]])
    system = System.model_construct(**fields) if sink.has_errors else System(**fields)
    return system, where


def _absolute_path(declared: str, folder: Path) -> tuple[str, str | None]:
    """A declared artifact path as an absolute one: a relative path is taken from the folder of
    the model file that declares it (audit rules and manifests need absolute paths)."""
    if declared.startswith("/"):
        return declared, path_problem(declared)
    if declared.startswith("~"):
        return declared, "starts with '~'; write the absolute path (home folders differ between machines)"
    problem = path_problem("/" + declared)  # the same character and segment rules, relative form
    if problem:
        return declared, problem.replace("must be an absolute path (starting with '/')", "is empty")
    import os

    absolute = os.path.normpath(os.path.join(str(folder.resolve()), declared))
    problem = path_problem(absolute)
    if problem:
        return absolute, f"resolves to {absolute!r}, which {problem}"
    return absolute, None


def _with_defaults(component: Component, kind: Kind) -> Component:
    update = {name: kind.defaults[name] for name in ATTRIBUTE_NAMES
              if getattr(component, name) is None and name in kind.defaults}
    if component.autonomy == "act" and component.approval_required is None:
        update["approval_required"] = False  # an agent that acts on its own waits for no one: said, not asked
    return component.model_copy(update=update) if update else component


def _hint_word(word: str) -> str:
    """A kind's hint word as a whole word, not part of a longer one ('Ray' not in 'xray' or 'Rayleigh')."""
    return rf"(?<![\w-]){re.escape(word)}(?![\w])"


def _hint_patterns(kinds: dict[str, Kind]) -> dict[str, re.Pattern[str]]:
    """Per kind with hints, one pattern that finds any of its words (compiled once per load)."""
    return {kind.id: re.compile("|".join(_hint_word(word) for word in kind.hints), re.IGNORECASE)
            for kind in kinds.values() if kind.hints}


def _kind_hint(component: Component, kinds: dict[str, Kind], patterns: dict[str, re.Pattern[str]]) -> str:
    """A warning when a component's words suggest a kind whose traits it lacks ('GPT-4o' on a
    process): the threats of that kind would not apply. Words come from the catalog (kind hints)."""
    own = set(kinds[component.kind].traits) if component.kind in kinds else set()
    # third-party code and models are named after what they are built for: the `openai` SDK is
    # a library, a Llama checkpoint being fine-tuned is a pre-trained model, not a hosted LLM
    if component.kind in kinds and kinds[component.kind].has_role("dependency"):
        return ""
    text = " ".join((component.name, component.technology, component.description))
    for kind in kinds.values():
        if not kind.hints or kind.id == component.kind or set(kind.traits) <= own:
            continue
        if not patterns[kind.id].search(text):
            continue
        for word in kind.hints:  # the first of the kind's words that occurs, as the catalog spells it
            if re.search(_hint_word(word), text, re.IGNORECASE):
                return (f"'{component.id}' mentions '{word}' but is of kind {component.kind}: if it is a "
                        f"{kind.title.lower()}, use kind: {kind.id} so that its threats apply")
    return ""


def _warn(system: System, parts: list[_Part], kinds: dict[str, Kind], sink: DiagnosticSink) -> None:
    touched = {f.source for f in system.flows} | {f.target for f in system.flows}
    carried = {d for f in system.flows for d in f.data} | {d for c in system.components for d in c.data}
    used_boundaries = {c.boundary for c in system.components} | {b.parent for b in system.boundaries}
    patterns = _hint_patterns(kinds)
    for part in parts:
        for index, component in enumerate(part.content.components):
            if component.id not in touched:
                sink.warning(part.at("components", index, "id"),
                             f"component '{component.id}' is not connected to any flow")
            if component.format and "model_store" not in kinds[component.kind].roles:
                sink.warning(part.at("components", index, "format"),
                             f"'format' is meant for model artifacts; '{component.id}' is a {component.kind}")
            for name in sorted(kinds[component.kind].ignores if component.kind in kinds else ()):
                if getattr(component, name) is not None:
                    sink.warning(part.at("components", index, name),
                                 f"'{name}' does nothing on a {component.kind}: no threat, question or mitigation "
                                 f"reads it there ('{component.id}'); check the kind, or drop the attribute")
            hint = _kind_hint(component, kinds, patterns)
            if hint:
                sink.warning(part.at("components", index, "kind"), hint)
            if component.exposure == "public" and "inference" not in kinds[component.kind].roles and kinds[component.kind].dfd != "process":
                sink.warning(part.at("components", index, "exposure"),
                             f"'exposure' is meant for services; '{component.id}' is a {component.kind}")
        for index, asset in enumerate(part.content.data):
            if asset.id not in carried:
                sink.warning(part.at("data", index, "id"), f"data asset '{asset.id}' is not carried by any flow "
                                                           "or stored in any component")
        for index, boundary in enumerate(part.content.boundaries):
            if boundary.id not in used_boundaries:
                sink.warning(part.at("boundaries", index, "id"), f"boundary '{boundary.id}' contains no component")
