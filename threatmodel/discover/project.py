"""The project as discovery sees it: its files (walked without leaving the folder), bounded
reads, the knowledge tables, and the inventory every reader adds to.

Nothing outside the project folder is read: symbolic links are listed but never followed, every
file is re-checked against the folder before it is opened, and names that cannot be written in
a model (control characters, newlines) are skipped and reported. Every limit is a number here,
so a hostile project (100,000 files, a huge notebook, an alias bomb) costs bounded time and
memory and ends in a note, not a hang.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from threatmodel.core.errors import InputError
from threatmodel.core.located_yaml import _env_limit, decode_text, read_bytes

MAX_FILES = _env_limit("THREATMODEL_DISCOVER_MAX_FILES", 200_000)
MAX_DEPTH = 40
MAX_CODE_BYTES = 2 * 1024 * 1024  # a Python file larger than this is generated, not written
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # YAML, TOML, requirements, Dockerfiles
MAX_HASH_BYTES = _env_limit("THREATMODEL_DISCOVER_MAX_HASH_BYTES", 64 * 1024 * 1024 * 1024)
MAX_NOTES = 200  # skipped files listed one by one before the rest are counted

_UNWRITABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@lru_cache(maxsize=1)
def tables() -> dict[str, Any]:
    """catalog/discover/project.yaml: what discovery knows, as data."""
    from threatmodel.core.located_yaml import load_mapping
    from threatmodel.core.resources import catalog_dir

    return dict(load_mapping(catalog_dir() / "discover" / "project.yaml", "catalog/discover/project.yaml"))


class _Kinds:
    """``K.model_file`` is the kind a model file becomes (catalog/discover/project.yaml, ``kinds``)."""

    def __getattr__(self, name: str) -> str:
        kinds = tables()["kinds"]
        if name not in kinds:
            raise AttributeError(name)
        return str(kinds[name])


K = _Kinds()


@lru_cache(maxsize=1)
def kind_titles() -> dict[str, str]:
    from threatmodel.core.located_yaml import load_mapping
    from threatmodel.core.resources import catalog_dir

    document = load_mapping(catalog_dir() / "kinds.yaml", "catalog/kinds.yaml")
    return {str(k["id"]): str(k.get("title", k["id"])) for k in document.get("kinds", []) if isinstance(k, dict)}


@lru_cache(maxsize=1)
def code_running_formats() -> frozenset[str]:
    """Model formats whose loading can run code (catalog/formats.yaml, executes_code_on_load)."""
    from threatmodel.core.located_yaml import load_mapping
    from threatmodel.core.resources import catalog_dir

    document = load_mapping(catalog_dir() / "formats.yaml", "catalog/formats.yaml")
    return frozenset(str(f["id"]) for f in document.get("formats", [])
                     if isinstance(f, dict) and f.get("executes_code_on_load"))


def runs_code(fmt: str | None) -> bool:
    return fmt in code_running_formats()


def printable(text: str) -> str:
    """A file name as it can be shown: control characters (newlines included) escaped."""
    return _UNWRITABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass
class Project:
    """The files of a project folder, as relative POSIX paths."""

    root: Path
    files: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)  # "path: why", for the draft's header
    skipped_count: int = 0
    truncated: bool = False

    def skip(self, rel: str, why: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_NOTES:
            self.skipped.append(f"{printable(rel)}: {why}")

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read_bytes(self, rel: str, limit: int) -> bytes | None:
        """The bytes of a project file, or None (with a note) when it is too large, not a regular
        file, outside the folder or unreadable."""
        path = self.root / rel
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
                self.skip(rel, "not a regular file")
                return None
            if not os.path.realpath(path).startswith(str(self.root) + os.sep):
                self.skip(rel, "resolves outside the project folder; not read")
                return None
            if info.st_size > limit:
                self.skip(rel, f"{info.st_size:,} bytes, over the {limit:,}-byte limit for this kind of file; not read")
                return None
            return read_bytes(path, rel, limit)
        except InputError as exc:
            self.skip(rel, exc.diagnostics[0].message if exc.diagnostics else "unreadable")
        except OSError as exc:
            self.skip(rel, exc.strerror or "unreadable")
        return None

    def head(self, rel: str, size: int = 256 * 1024) -> bytes:
        """The first bytes of a file no larger than the manifest limit (b"" otherwise): enough to
        tell whether a YAML file is a manifest worth parsing."""
        length = self.sizes.get(rel, 0)
        if length > MAX_MANIFEST_BYTES:
            return b""
        try:
            with open(self.path(rel), "rb") as handle:
                return handle.read(min(length, size))
        except OSError:
            return b""

    def read_text(self, rel: str, limit: int = MAX_MANIFEST_BYTES) -> str | None:
        data = self.read_bytes(rel, limit)
        if data is None:
            return None
        try:
            return decode_text(data, rel)
        except InputError as exc:
            self.skip(rel, exc.diagnostics[0].message if exc.diagnostics else "not UTF-8 text")
            return None

    def matching(self, patterns: list[str]) -> list[str]:
        """Files whose name (or path, for patterns with '/') matches one of the patterns."""
        found = []
        for rel in self.files:
            name = rel.rsplit("/", 1)[-1]
            for pattern in patterns:
                if fnmatch.fnmatchcase(rel if "/" in pattern else name, pattern) or (
                        "/" in pattern and fnmatch.fnmatchcase(rel, "*/" + pattern)):
                    found.append(rel)
                    break
        return found


def walk(root: Path) -> Project:
    """List the regular files under ``root`` without following links or leaving it."""
    project = Project(root)
    skip_names = set(tables()["skip_folders"])
    stack: list[tuple[str, int]] = [("", 0)]
    while stack:
        rel_folder, depth = stack.pop()
        folder = root / rel_folder if rel_folder else root
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            project.skip(rel_folder or ".", f"cannot list: {exc.strerror or exc}")
            continue
        subfolders: list[str] = []
        for entry in listed:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            if _UNWRITABLE.search(entry.name):
                project.skip(rel, "the name holds a control character (a newline?); a model cannot name it")
                continue
            try:
                if entry.is_symlink():
                    project.skip(rel, "symbolic link, not followed")
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in skip_names or entry.name.startswith("."):
                        continue
                    if depth + 1 > MAX_DEPTH:
                        project.skip(rel, f"deeper than {MAX_DEPTH} folders; not entered")
                        continue
                    subfolders.append(rel)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    project.skip(rel, "not a regular file (a FIFO, socket or device)")
                    continue
                size = entry.stat(follow_symlinks=False).st_size
            except OSError as exc:
                project.skip(rel, exc.strerror or "unreadable")
                continue
            if len(project.files) >= MAX_FILES:
                project.truncated = True
                stack.clear()
                break
            project.files.append(rel)
            project.sizes[rel] = size
        project.folders.update(subfolders)
        stack.extend((sub, depth + 1) for sub in reversed(subfolders))
    project.files.sort()
    return project


@dataclass
class Thing:
    """One component discovery found, under a stable key (the unit ``drift`` compares)."""

    key: str
    kind: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)  # attributes in our model format
    notes: dict[str, str] = field(default_factory=dict)  # attribute -> why it was guessed
    seen: list[str] = field(default_factory=list)  # "file:line" where the evidence is
    facts: dict[str, Any] = field(default_factory=dict)  # what drift compares (hashes, versions, …)
    third_party: bool = False  # placed outside the project's boundary

    def note(self, attribute: str, value: Any, why: str) -> None:
        """Set an attribute with the reason it was guessed (the first reason wins)."""
        if attribute not in self.values:
            self.values[attribute] = value
            self.notes[attribute] = why

    def saw(self, where: str) -> None:
        if where and where not in self.seen:
            self.seen.append(where)


@dataclass
class Inventory:
    project: Project
    things: dict[str, Thing] = field(default_factory=dict)
    flows: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)  # (source, target) -> (name, both ways)
    warnings: list[str] = field(default_factory=list)  # "file:line: …" findings to show a reviewer
    questions: list[str] = field(default_factory=list)
    read: set[str] = field(default_factory=set)  # files a reader used
    code_owner: dict[str, str] = field(default_factory=dict)  # code file -> key of the step that runs it
    _asked: dict[str, int] = field(default_factory=dict)  # thing key -> index of its exposure question
    _by_path: dict[str, Thing] = field(default_factory=dict)  # declared path -> the first thing declaring it

    def drop_answered(self) -> None:
        """Forget the exposure questions a manifest answered after they were asked."""
        answered = {index for key, index in self._asked.items()
                    if key in self.things and "exposure" in self.things[key].values}
        self.questions = [q for i, q in enumerate(self.questions) if i not in answered]
        self._asked = {}

    def set_paths(self, thing: Thing, paths: list[str], keep: bool = False) -> None:
        """Declare where a thing is (``keep``: only when it has no paths yet), indexed for
        :meth:`covering`."""
        if keep and thing.values.get("paths"):
            return
        thing.values["paths"] = paths
        for path in paths:
            self._by_path.setdefault(path.strip("/") or ".", thing)

    def covering(self, rel: str) -> Thing | None:
        """The thing whose declared paths hold ``rel`` (the closest one)."""
        parts = [p for p in rel.strip("/").split("/") if p]
        for end in range(len(parts), -1, -1):
            thing = self._by_path.get("/".join(parts[:end]) if end else ".")
            if thing is not None:
                return thing
        return None

    def add(self, key: str, kind: str, name: str, where: str = "", third_party: bool = False) -> Thing:
        thing = self.things.get(key)
        if thing is None:
            thing = self.things[key] = Thing(key, kind, name, third_party=third_party)
        thing.saw(where)
        if where:
            self.read.add(where.split(":", 1)[0])
        return thing

    def flow(self, source: str, target: str, name: str = "", both_ways: bool = False) -> None:
        if source != target and source in self.things and target in self.things:
            if both_ways and (target, source) in self.flows:
                return
            self.flows.setdefault((source, target), (name, both_ways))

    def warn(self, where: str, message: str) -> None:
        line = f"{printable(where)}: {message}"
        if line not in self.warnings:
            self.warnings.append(line)

    def ask(self, question: str, about: str = "") -> None:
        """Add a question for the reviewer; a later question ``about`` the same thing replaces
        the earlier one (it knows more: a port, a manifest)."""
        if about:
            if about in self._asked:
                self.questions[self._asked[about]] = question
                return
            self._asked[about] = len(self.questions)
        if question not in self.questions:
            self.questions.append(question)
