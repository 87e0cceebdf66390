"""Model files and datasets on disk: which format each model file really is (from its first
bytes, not only its name), its size and SHA-256, and which folders hold data.

A file whose bytes are a pickle is recorded as a pickle whatever its name says: a
``model.safetensors`` that starts with a pickle opcode runs code when loaded, and the draft says
so. Hashing stops at a total budget; files past it are listed with their size only.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections import defaultdict
from typing import Any

from threatmodel.controls.manifest import sha256_file
from threatmodel.discover.project import Inventory, K, MAX_HASH_BYTES, Project, runs_code, tables

SNIFF_BYTES = 16


def model_format(rel: str) -> tuple[str, str] | None:
    """(format, sniff check) for a model file, from its name."""
    lowered = rel.lower().rsplit("/", 1)[-1]
    best: tuple[int, str, str] | None = None
    for row in tables()["model_files"]:
        for ending in row["endings"]:
            if lowered.endswith(ending) and (best is None or len(ending) > best[0]):
                best = (len(ending), row["format"], row.get("sniff", ""))
    return (best[1], best[2]) if best else None


def _head(project: Project, rel: str) -> bytes:
    try:
        handle = os.open(project.path(rel), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return b""
    try:
        return os.read(handle, SNIFF_BYTES)
    except OSError:
        return b""
    finally:
        os.close(handle)


def _zip_holds_pickle(project: Project, rel: str) -> bool:
    try:
        with zipfile.ZipFile(project.path(rel)) as archive:
            return any(name.endswith(".pkl") or name.endswith("/data.pkl") for name in archive.namelist()[:10_000])
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return False


def sniff(project: Project, rel: str, declared: str) -> tuple[str, str]:
    """The format the bytes show, and what was seen ("" when the bytes agree with the name)."""
    head = _head(project, rel)
    if not head:
        return declared, "empty or unreadable; format taken from the name"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        if declared in ("pickle", "pytorch", "joblib"):
            return declared, ""
        return "pickle", "the bytes are a Python pickle (it starts with a pickle protocol header), whatever the name says"
    if head[:4] == b"PK\x03\x04":
        if _zip_holds_pickle(project, rel):
            if declared in ("pytorch", "pickle", "joblib"):
                return declared, ""
            return "pytorch", "the bytes are a zip archive holding a pickle (PyTorch's format), whatever the name says"
        return declared, ""
    if declared == "safetensors":
        if len(head) >= 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < 100_000_000:
            return declared, ""
        return "other", "the name says safetensors but the bytes do not start with a safetensors header"
    if declared == "gguf" and head[:4] != b"GGUF":
        return "other", "the name says GGUF but the bytes do not start with the GGUF magic"
    if declared == "keras-h5" and head[:8] != b"\x89HDF\r\n\x1a\n":
        return declared, "the name says HDF5 but the bytes do not start with the HDF5 signature"
    return declared, ""


class Hasher:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.budget = MAX_HASH_BYTES

    def file(self, rel: str) -> str | None:
        size = self.project.sizes.get(rel, 0)
        if size > self.budget:
            return None
        try:
            digest = sha256_file(self.project.path(rel))
        except OSError:
            return None
        self.budget -= size
        return digest


def _folder(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def _label(folder: str) -> str:
    return folder if folder else "the project root"


def read_artifacts(inventory: Inventory) -> None:
    project = inventory.project
    marker = tables()["saved_model_marker"]
    hasher = Hasher(project)
    saved_models = sorted({_folder(rel) for rel in project.files if rel.rsplit("/", 1)[-1] == marker})
    inside_saved = tuple(folder + "/" for folder in saved_models if folder)

    for folder in saved_models:
        files = [rel for rel in project.files if rel.startswith(folder + "/") or (not folder and "/" not in rel)]
        thing = inventory.add(f"model:{folder or '.'}", K.model_file, f"TensorFlow SavedModel {_label(folder)}",
                              f"{folder + '/' if folder else ''}{marker}")
        inventory.set_paths(thing, [folder or "."])
        thing.note("format", "tensorflow-savedmodel", f"a folder holding {marker}")
        thing.facts.update(kind="savedmodel", files=_file_facts(project, hasher, files, "tensorflow-savedmodel"))

    by_folder: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for rel in project.files:
        if rel.startswith(inside_saved):
            continue
        named = model_format(rel)
        if named is None:
            continue
        actual, seen = sniff(project, rel, named[0])
        by_folder[_folder(rel)].append((rel, actual, seen))
    for folder, entries in sorted(by_folder.items()):
        formats = sorted({fmt for _, fmt, _ in entries})
        title = f"model files in {_label(folder)}" if len(entries) > 1 else f"model file {entries[0][0]}"
        thing = inventory.add(f"model:{folder or '.'}", K.model_file, title[0].upper() + title[1:], entries[0][0])
        for rel, _, _ in entries[1:]:
            thing.saw(rel)
        inventory.set_paths(thing, sorted(rel for rel, _, _ in entries))
        risky = [fmt for fmt in formats if runs_code(fmt)]
        chosen = risky[0] if risky else formats[0]
        why = "from the files' names and first bytes"
        if len(formats) > 1:
            why = f"mixed formats ({', '.join(formats)}); the one that can run code on load is recorded"
        thing.note("format", chosen, why)
        thing.facts.update(kind="model-files", files=_file_facts(project, hasher, [rel for rel, _, _ in entries],
                                                                  None, {rel: fmt for rel, fmt, _ in entries}))
        for rel, fmt, seen in entries:
            if seen:
                inventory.warn(rel, f"{seen} (recorded as {fmt})")
    _read_datasets(inventory)


def _file_facts(project: Project, hasher: Hasher, files: list[str], fmt: str | None,
                formats: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    facts = {}
    for rel in sorted(files):
        entry: dict[str, Any] = {"size": project.sizes.get(rel, 0)}
        if formats:
            entry["format"] = formats[rel]
        elif fmt:
            entry["format"] = fmt
        digest = hasher.file(rel)
        if digest:
            entry["sha256"] = digest
        facts[rel] = entry
    return facts


def _dataset_folder(rel: str, data_names: set[str], data_endings: tuple[str, ...],
                    media: tuple[str, ...]) -> str | None:
    """The folder a data file belongs to: below a folder named like data (images, audio and
    documents count there), else its own folder (for files that are data by their ending)."""
    parts = rel.split("/")
    lowered = rel.lower()
    for index, part in enumerate(parts[:-1]):
        if part.lower() in data_names and lowered.endswith(data_endings + media):
            return "/".join(parts[:min(index + 2, len(parts) - 1)])
    if lowered.endswith(data_endings):
        return _folder(rel)
    return None


def _read_datasets(inventory: Inventory) -> None:
    project = inventory.project
    table = tables()
    data_names = {name.lower() for name in table["data_folders"]}
    endings, media = tuple(table["data_files"]), tuple(table["media_files"])
    groups: dict[str, list[str]] = defaultdict(list)
    for rel in project.files:
        if model_format(rel) or rel.rsplit("/", 1)[-1] == table["saved_model_marker"]:
            continue
        folder = _dataset_folder(rel, data_names, endings, media)
        if folder is not None:
            groups[folder].append(rel)
    for folder, files in sorted(groups.items()):
        key = f"data:{folder or '.'}"
        if key.replace("data:", "model:") in inventory.things:
            continue
        thing = inventory.add(key, K.data, f"Data in {_label(folder)}", files[0])
        inventory.set_paths(thing, [folder or "."] if folder else sorted(files)[:50])
        purpose = _purpose(folder)
        if purpose:
            thing.note("purpose", purpose, f"from the folder name '{folder}'")
        thing.facts.update(kind="data", file_count=len(files), bytes=sum(project.sizes.get(f, 0) for f in files))


def _purpose(folder: str) -> str | None:
    names = {part.lower() for part in folder.split("/")}
    for purpose, words in tables()["purposes"].items():
        if names & {w.lower() for w in words}:
            return str(purpose)
    return None
