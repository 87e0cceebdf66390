"""SHA-256 manifests of declared artifacts, and checking a machine against one.

A manifest lists, for each declared path, whether it was a file, a directory or missing, and
the SHA-256 of every file found (directories are walked without following symbolic links).
Verifying re-hashes and reports files that changed, vanished, or appeared under a declared
directory. Manifests are deterministic: sorted, no timestamps.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import locate

FORMAT = "threatmodel-manifest"
VERSION = 1
CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """The SHA-256 of a regular file; opened without blocking and checked, so that a path swapped
    for a FIFO or a device between listing and hashing cannot hang the run."""
    import stat

    digest = hashlib.sha256()
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            for block in iter(lambda: stream.read(CHUNK), b""):
                digest.update(block)
    finally:
        os.close(handle)
    return digest.hexdigest()


MAX_FILES = 100_000  # a manifest root with more files is not an artifact folder


def _files_under(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders.sort()
        found.extend(Path(folder) / name for name in sorted(files))
        if len(found) > MAX_FILES:
            raise OSError(f"{root} holds more than {MAX_FILES:,} files; a manifest covers artifact folders, "
                          "not whole file systems")
    return sorted(found)


def _scan(path: Path) -> tuple[str, dict[str, str]]:
    if path.is_file():
        return "file", {str(path): sha256_file(path)}
    if path.is_dir():
        return "directory", {str(p): sha256_file(p) for p in _files_under(path) if p.is_file()}
    return "missing", {}


def build_manifest(targets: list[tuple[str, str]], source: str = "") -> dict[str, Any]:
    roots = []
    files: dict[str, str] = {}
    for component, declared in targets:
        kind, hashed = _scan(Path(declared))
        roots.append({"component": component, "path": declared, "type": kind})
        files.update(hashed)
    return {"format": FORMAT, "version": VERSION, "algorithm": "sha256", "model": source,
            "roots": roots, "files": dict(sorted(files.items()))}


@dataclass
class ManifestCheck:
    changed: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    appeared: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # declared paths that do not exist (never hashed)
    roots: list[dict[str, Any]] = field(default_factory=list)  # the manifest's roots, as recorded

    @property
    def clean(self) -> bool:
        return not (self.changed or self.vanished or self.appeared or self.missing)


def _validate(document: Any, name: str) -> None:
    problems = []
    where = getattr(document, "location", Location(name, 1, 1))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        problems.append(Diagnostic(where, f"not a threatmodel manifest (expected \"format\": \"{FORMAT}\")"))
    elif document.get("version") != VERSION or document.get("algorithm") != "sha256":
        problems.append(Diagnostic(where, f"unsupported manifest version or algorithm (expected version {VERSION}, sha256)"))
    elif not isinstance(document.get("roots"), list) or not isinstance(document.get("files"), dict):
        problems.append(Diagnostic(where, "a manifest needs a 'roots' list and a 'files' mapping"))
    else:
        from threatmodel.core.safe_paths import path_problem

        for index, root in enumerate(document["roots"]):
            if not (isinstance(root, dict) and isinstance(root.get("path"), str) and root.get("type") in ("file", "directory", "missing")):
                problems.append(Diagnostic(getattr(root, "location", where), "each root needs a 'path' and a 'type' (file, directory or missing)"))
                continue
            problem = path_problem(root["path"]) or (
                "is a system folder (/proc, /sys, /dev), not an artifact" if root["path"].split("/")[1:2] in (["proc"], ["sys"], ["dev"]) else None)
            if problem:
                problems.append(Diagnostic(locate(document, ("roots", index, "path")) or where, f"root {root['path']!r} {problem}"))
        for path, digest in document["files"].items():
            if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
                problems.append(Diagnostic(locate(document, ("files", path)) or where,
                                           f"'{path}' has no valid SHA-256 hex digest"))
    if problems:
        raise InputError(problems)


def verify_manifest(document: Any, name: str) -> ManifestCheck:
    _validate(document, name)
    check = ManifestCheck()
    recorded: dict[str, str] = document["files"]
    current: dict[str, str] = {}
    for root in document["roots"]:
        kind, hashed = _scan(Path(root["path"]))
        current.update(hashed)
        if kind == "missing" and root["type"] == "missing":
            check.missing.append(root["path"])  # a declared artifact that is not there: a difference
        if kind != "missing" and root["type"] in ("directory", "missing"):
            check.appeared.extend(p for p in hashed if p not in recorded)
    for path, digest in recorded.items():
        if path not in current and Path(path).is_file():
            current[path] = sha256_file(Path(path))  # recorded outside any root's current scan
        if path not in current:
            check.vanished.append(path)
        elif current[path] != digest:
            check.changed.append(path)
    check.changed.sort()
    check.vanished.sort()
    check.appeared = sorted(set(check.appeared))
    check.missing = sorted(set(check.missing))
    check.roots = [dict(root) for root in document["roots"]]
    return check


CHECK_FORMAT = "threatmodel-manifest-check"


def check_document(check: ManifestCheck, manifest_name: str, checked: Any = None) -> dict[str, Any]:
    """The result of a check as evidence (``verify-manifest --format json``; threatmodel.evidence reads it)."""
    import datetime as dt

    when = checked or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return {"format": CHECK_FORMAT, "version": 1, "manifest": manifest_name, "checked": when.isoformat(),
            "clean": check.clean, "roots": check.roots, "changed": check.changed, "vanished": check.vanished,
            "appeared": check.appeared, "missing": check.missing}
