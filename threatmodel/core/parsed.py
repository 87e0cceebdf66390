"""The built-in catalog's YAML, parsed ahead of time for an installed threatmodel.

Reading the catalog with line and column marks is most of a small report's start-up; the files
never change once installed, so the wheel's build hook (hatch_build.py) parses them once and
stores the located documents in ``threatmodel/_data/catalog.parsed``. A file is taken from there
only when its text is exactly the text that was parsed (the key is its SHA-256), so an edited or
replaced file is parsed afresh; a source checkout has no such file and always parses.
The store is a pickle of threatmodel's own located-YAML types (no pydantic objects), written by
the package's own build and read only from its own installation folder.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any, Iterable

from threatmodel.core.located_yaml import YamlMap, expect_mapping, parse_yaml, read_text

STORE_NAME = "catalog.parsed"
_STORE_VERSION = 1


def _store_path() -> Path:
    return Path(__file__).resolve().parent.parent / "_data" / STORE_NAME


def _key(name: str, text: str) -> tuple[str, str]:
    return name, hashlib.sha256(text.encode("utf-8")).hexdigest()


class ParsedFiles:
    """Parse files by name, from the store where it holds the same text."""

    def __init__(self, store: Path | None = None) -> None:
        self._documents: dict[tuple[str, str], Any] = {}
        self.taken = 0  # files taken from the store rather than parsed
        path = store or _store_path()
        try:
            version, documents = pickle.loads(path.read_bytes())
        except Exception:  # no store (a source checkout), or one this version cannot read: parse
            return
        if version == _STORE_VERSION and isinstance(documents, dict):
            self._documents = documents

    def parse(self, path: Path, name: str) -> Any:
        """The located document of ``path`` (shown as ``name`` in errors), as parse_yaml gives it."""
        text = read_text(path, name)
        document = self._documents.pop(_key(name, text), None)  # handed out once: callers own it
        if document is None:
            return parse_yaml(text, name)
        self.taken += 1
        return document

    def mapping(self, path: Path, name: str) -> YamlMap:
        """Like located_yaml.load_mapping: the file's single document must be a mapping."""
        return expect_mapping(self.parse(path, name), name)


def catalog_files(folder: Path) -> list[tuple[Path, str]]:
    """The built-in catalog's YAML files and the names the loader shows them by (catalog/NAME)."""
    return [(path, f"catalog/{path.name}") for path in sorted(folder.glob("*.yaml"))]


def write_store(files: Iterable[tuple[Path, str]], target: Path) -> None:
    """Parse each (path, name) and write the store the loader reads (used by the build hook)."""
    documents = {}
    for path, name in files:
        text = read_text(path, name)
        documents[_key(name, text)] = parse_yaml(text, name)
    target.write_bytes(pickle.dumps((_STORE_VERSION, documents), protocol=pickle.HIGHEST_PROTOCOL))


__all__ = ["ParsedFiles", "catalog_files", "write_store", "STORE_NAME"]
