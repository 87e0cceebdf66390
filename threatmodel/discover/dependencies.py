"""Python dependencies as the project declares them: requirements files, pyproject.toml (PEP 621,
dependency groups and Poetry), conda environment files and lock files. Each list becomes one
library component naming its packages; ``pinned: true`` only when every package has an exact
version *and* a hash (in the list itself or in a lock file beside it), because that is what
makes a swapped release fail to install.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from threatmodel.core.errors import InputError
from threatmodel.core.located_yaml import parse_yaml
from threatmodel.discover.project import Inventory, K, tables

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_EXACT = re.compile(r"^\s*===?\s*[A-Za-z0-9][A-Za-z0-9.+!_-]*\s*$")
MAX_INCLUDES = 20


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Package:
    name: str
    spec: str
    line: int = 0
    hashed: bool = False

    @property
    def exact(self) -> bool:
        spec = self.spec.split(";")[0].strip()
        return bool(_EXACT.match(spec)) or bool(re.search(r"@\s*\S+@[0-9a-f]{40}\b", self.spec)) or bool(
            re.search(r"@[0-9a-f]{40}\b", spec))


@dataclass
class DependencyList:
    rel: str
    packages: dict[str, Package] = field(default_factory=dict)
    indexes: list[str] = field(default_factory=list)  # index URLs beyond the default
    extra_indexes: list[str] = field(default_factory=list)
    locked_by: str = ""  # a lock file that pins and hashes every package
    ecosystem: str = "PyPI"

    def add(self, name: str, spec: str, line: int = 0, hashed: bool = False) -> None:
        key = normalise(name)
        if key in ("python", "pip") or not key:
            return
        self.packages.setdefault(key, Package(name, spec.strip(), line, hashed))


def _requirements(inventory: Inventory, rel: str, into: DependencyList, seen: set[str]) -> None:
    if rel in seen or len(seen) > MAX_INCLUDES:
        return
    seen.add(rel)
    text = inventory.project.read_text(rel)
    if text is None:
        return
    inventory.read.add(rel)
    base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append((start, pending + line))
        pending = ""
    for number, line in logical:
        words = line.split()
        if not words:
            continue
        option = words[0]
        if option in ("-r", "--requirement", "-c", "--constraint") and len(words) > 1:
            from threatmodel.discover.pipelines import _join

            _requirements(inventory, _join(base.rstrip("/"), words[1]), into, seen)
            continue
        if option.startswith(("--requirement=", "--constraint=")):
            from threatmodel.discover.pipelines import _join

            _requirements(inventory, _join(base.rstrip("/"), option.split("=", 1)[1]), into, seen)
            continue
        if option in ("-i", "--index-url") and len(words) > 1:
            into.indexes.append(words[1])
            continue
        if option.startswith("--index-url="):
            into.indexes.append(option.split("=", 1)[1])
            continue
        if option == "--extra-index-url" and len(words) > 1:
            into.extra_indexes.append(words[1])
            continue
        if option.startswith("--extra-index-url="):
            into.extra_indexes.append(option.split("=", 1)[1])
            continue
        if option.startswith("-") and option not in ("-e", "--editable"):
            continue
        if option in ("-e", "--editable"):
            target = " ".join(words[1:])
            if target.startswith((".", "/")) or "://" not in target:
                continue  # the project itself, installed in place
            name = re.search(r"#egg=([A-Za-z0-9._-]+)", target)
            into.add(name.group(1) if name else target, target, number)
            continue
        hashed = "--hash=" in line or "--hash " in line
        requirement = re.split(r"\s--hash[= ]", line)[0].strip()
        if "://" in requirement and "@" not in requirement.split("://")[0]:
            name = re.search(r"#egg=([A-Za-z0-9._-]+)", requirement)
            into.add(name.group(1) if name else requirement.rsplit("/", 1)[-1], requirement, number, hashed)
            continue
        match = _REQUIREMENT.match(requirement)
        if match:
            into.add(match.group(1), match.group(3), number, hashed)


def _pep508(entry: Any, into: DependencyList) -> None:
    if isinstance(entry, str):
        match = _REQUIREMENT.match(entry)
        if match:
            into.add(match.group(1), match.group(3))


def _pyproject(inventory: Inventory, rel: str) -> list[DependencyList]:
    text = inventory.project.read_text(rel)
    if text is None:
        return []
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        inventory.warn(rel, f"not read: {exc}")
        return []
    into = DependencyList(rel)
    project = document.get("project") if isinstance(document.get("project"), dict) else {}
    for entry in project.get("dependencies") or []:
        _pep508(entry, into)
    optional = project.get("optional-dependencies")
    for entries in (optional.values() if isinstance(optional, dict) else []):
        for entry in entries if isinstance(entries, list) else []:
            _pep508(entry, into)
    groups = document.get("dependency-groups")
    for entries in (groups.values() if isinstance(groups, dict) else []):
        for entry in entries if isinstance(entries, list) else []:
            _pep508(entry, into)
    tool = document.get(K.tool_function) if isinstance(document.get(K.tool_function), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    tables_ = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    group = poetry.get("group")
    if isinstance(group, dict):
        tables_.extend(g.get("dependencies") for g in group.values() if isinstance(g, dict))
    for table in tables_:
        for name, spec in (table.items() if isinstance(table, dict) else []):
            if isinstance(spec, dict):
                version = spec.get("version") or spec.get("git") or spec.get("url") or spec.get("path") or ""
                if spec.get("path"):
                    continue
                spec = str(version) + (f"@{spec['rev']}" if spec.get("rev") else "")
            spec = str(spec)
            into.add(name, ("==" + spec) if re.fullmatch(r"\d[\w.+!-]*", spec) else spec)
    for source in poetry.get("source") or []:
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            (into.indexes if source.get("priority") in ("primary", "default") else into.extra_indexes).append(source["url"])
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
    for index in uv.get("index") or []:
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            into.extra_indexes.append(index["url"])
    return [into] if into.packages else []


def _conda(inventory: Inventory, rel: str) -> list[DependencyList]:
    text = inventory.project.read_text(rel)
    if text is None:
        return []
    try:
        document = parse_yaml(text, rel)
    except InputError as exc:
        inventory.warn(str(exc.diagnostics[0].location) if exc.diagnostics else rel,
                       f"not read: {exc.diagnostics[0].message if exc.diagnostics else 'invalid YAML'}")
        return []
    if not isinstance(document, dict) or not isinstance(document.get("dependencies"), list):
        return []
    conda = DependencyList(rel, ecosystem="conda")
    pip = DependencyList(rel + " (pip)")
    for entry in document["dependencies"]:
        line = getattr(getattr(entry, "location", None), "line", 0)
        if isinstance(entry, str):
            parts = re.split(r"[=<>!~ ]", entry, maxsplit=1)
            spec = entry[len(parts[0]):]
            exact = re.fullmatch(r"==?\d[\w.+!-]*(=[\w.+!*-]+)?", spec.strip()) and "*" not in spec
            conda.add(parts[0].split("::")[-1], ("==" + spec.strip("= ")) if exact else spec, line)
        elif isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            for item in entry["pip"]:
                if isinstance(item, str):
                    if item.startswith(("-i ", "--index-url")):
                        pip.indexes.append(item.split()[-1].split("=")[-1])
                    elif item.startswith("--extra-index-url"):
                        pip.extra_indexes.append(item.split()[-1].split("=")[-1])
                    else:
                        match = _REQUIREMENT.match(item)
                        if match:
                            pip.add(match.group(1), match.group(3), getattr(getattr(item, "location", None), "line", 0))
    channels = [str(c) for c in document.get("channels") or [] if isinstance(c, str)]
    conda.extra_indexes.extend(f"conda channel {c}" for c in channels if c not in ("defaults", "conda-forge"))
    return [d for d in (conda, pip) if d.packages]


def _lock(inventory: Inventory, rel: str) -> tuple[bool, int] | None:
    """(every package hashed, package count) of a lock file."""
    text = inventory.project.read_text(rel)
    if text is None:
        return None
    name = rel.rsplit("/", 1)[-1]
    try:
        if name in ("poetry.lock", "uv.lock", "pdm.lock"):
            document = tomllib.loads(text)
            packages = [p for p in document.get("package") or [] if isinstance(p, dict)]
            hashed = [p for p in packages if p.get("files") or p.get("sdist") or p.get("wheels") or
                      (p.get("source") or {}).get("editable") or (p.get("source") or {}).get("virtual")]
            return (len(hashed) == len(packages) and bool(packages), len(packages))
        if name == "Pipfile.lock":
            document = json.loads(text)
            packages = [p for section in ("default", "develop") for p in (document.get(section) or {}).values()
                        if isinstance(p, dict)]
            return (all(p.get("hashes") for p in packages) and bool(packages), len(packages))
        document = parse_yaml(text, rel)
        packages = [p for p in (document.get("package") or []) if isinstance(p, dict)] if isinstance(document, dict) else []
        return (all(p.get("hash") for p in packages) and bool(packages), len(packages))
    except (tomllib.TOMLDecodeError, ValueError, InputError, AttributeError) as exc:
        inventory.warn(rel, f"lock file not read: {str(exc).splitlines()[0][:200]}")
        return None


def read_dependencies(inventory: Inventory) -> list[DependencyList]:
    project = inventory.project
    table = tables()
    lists: list[DependencyList] = []
    included: set[str] = set()
    for rel in project.matching(table["requirements_files"]):
        if rel in included:
            continue
        into = DependencyList(rel)
        seen: set[str] = set()
        _requirements(inventory, rel, into, seen)
        included.update(seen - {rel})
        if into.packages:
            lists.append(into)
    lists = [d for d in lists if d.rel not in included]
    for rel in project.matching(["pyproject.toml"]):
        lists.extend(_pyproject(inventory, rel))
    for rel in project.matching(table["conda_files"]):
        lists.extend(_conda(inventory, rel))
    locks = {}
    for rel in project.matching(table["lock_files"]):
        result = _lock(inventory, rel)
        if result is not None:
            locks[rel] = result
    for dependencies in lists:
        folder = dependencies.rel.rsplit("/", 1)[0] if "/" in dependencies.rel else ""
        for rel, (hashed, count) in sorted(locks.items()):
            if (rel.rsplit("/", 1)[0] if "/" in rel else "") == folder and hashed and \
                    dependencies.rel.endswith(("pyproject.toml", ".txt")) and count:
                dependencies.locked_by = rel
    for dependencies in lists:
        _component(inventory, dependencies)
    return lists


def _index_host(url: str) -> str:
    match = re.match(r"[a-z+]+://(?:[^@/]+@)?([^/:]+)", url)
    return match.group(1) if match else url


def _component(inventory: Inventory, dependencies: DependencyList) -> None:
    rel = dependencies.rel.split(" (")[0]
    public = set(tables()["public_indexes"])
    private = [u for u in dependencies.indexes + dependencies.extra_indexes if _index_host(u) not in public
               and not u.startswith("conda channel")]
    origin = "PyPI" if dependencies.ecosystem == "PyPI" else "conda"
    if dependencies.indexes and all(_index_host(u) not in public for u in dependencies.indexes):
        origin = ", ".join(sorted({_index_host(u) for u in dependencies.indexes}))
    names = sorted(p.name for p in dependencies.packages.values())
    key = f"deps:{dependencies.rel}"
    title = f"{'Conda' if dependencies.ecosystem == 'conda' else 'Python'} packages from {dependencies.rel}"
    thing = inventory.add(key, K.dependencies, title, rel, third_party=False)
    thing.values["technology"] = f"{', '.join(names)} from {origin}"[:4000]
    thing.facts.update(packages={k: p.spec for k, p in sorted(dependencies.packages.items())},
                       indexes=dependencies.indexes + dependencies.extra_indexes)
    loose = [p for p in dependencies.packages.values() if not p.exact]
    unhashed = [p for p in dependencies.packages.values() if not p.hashed]
    if dependencies.locked_by:
        thing.note("pinned", True, f"{dependencies.locked_by} pins every package with a hash")
    elif loose:
        sample = ", ".join(f"{p.name}{p.spec}" for p in loose[:4])
        thing.note("pinned", False, f"{len(loose)} of {len(dependencies.packages)} packages have no exact version "
                                    f"({sample}{', …' if len(loose) > 4 else ''})")
    elif unhashed and dependencies.ecosystem == "PyPI":
        thing.note("pinned", False, "exact versions, but no hashes: a re-published release would still install")
    elif not unhashed:
        thing.note("pinned", True, "every package has an exact version and a hash")
    thing.facts["pinned"] = thing.values.get("pinned")
    if dependencies.extra_indexes and (dependencies.indexes or private):
        inventory.warn(rel, "packages come from more than one index "
                            f"({', '.join(sorted({_index_host(u) for u in dependencies.indexes + dependencies.extra_indexes}))}): "
                            "pip takes the highest version from any of them, so a public package named like a "
                            "private one can replace it (dependency confusion)")
