"""The project's own manifest check: ``threatmodel controls verify-manifest MANIFEST --format json``.

The result names the manifest, when the check ran (``checked``), each root it covers, and the
files that ``changed``, ``vanished`` or ``appeared``. A root with none of them passes; a root
with any fails. The format is documented in docs/controls.md.
"""

from __future__ import annotations

import posixpath
from typing import Any

from threatmodel.evidence.common import ReaderResult, under, line_of, malformed, parse_date
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "manifest"
SUBJECT = "path"
JSON = True
ORDER = 10  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "threatmodel controls verify-manifest --format json"
FORMAT = "threatmodel-manifest-check"


def recognises(text: str, document: Any) -> bool:
    return isinstance(document, dict) and document.get("format") == FORMAT



def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    if document.get("version") != 1:
        raise malformed(name, "manifest check: unsupported version (expected 1)", line_of(text, '"version"'))
    lists = {}
    for key in ("roots", "changed", "vanished", "appeared"):
        value = document.get(key)
        if not isinstance(value, list):
            raise malformed(name, f"manifest check: '{key}' must be a list", line_of(text, f'"{key}"'))
        lists[key] = value
    result = ReaderResult(date=parse_date(document.get("checked")))
    problems = {k: [p for p in lists[k] if isinstance(p, str)] for k in ("changed", "vanished", "appeared")}
    for root in lists["roots"]:
        if not (isinstance(root, dict) and isinstance(root.get("path"), str)):
            raise malformed(name, "manifest check: each root needs a 'path'", line_of(text, '"roots"'))
        path = posixpath.normpath(root["path"])
        where = Location(name, line_of(text, f'"{root["path"]}"'), 1)
        if root.get("type") == "missing":
            result.notes.append(f"{path} did not exist when the manifest was made; it proves nothing about it")
            continue
        result.scope.append(path)
        found = [f"{kind} {p}" for kind, paths in problems.items() for p in paths if under(posixpath.normpath(p), path)]
        if found:
            result.observations.append(Observation(path, False, "hash manifest: " + "; ".join(found[:5])
                                                   + (f" and {len(found) - 5} more" if len(found) > 5 else ""), where))
        else:
            result.observations.append(Observation(path, True, "hash manifest: every file matches", where))
    return result
