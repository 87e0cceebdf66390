"""modelscan (Protect AI) JSON reports: ``modelscan -p PATH -r json -o report.json``.

The report's ``summary`` names the folder scanned (``absolute_path``), the files scanned in it
(``scanned.scanned_files``, relative to that folder) and when (``timestamp``); ``issues`` names
each unsafe operator with its ``source`` file and ``severity``. A scanned file with no issue
passes; a file with an issue fails. Format: https://github.com/protectai/modelscan (JSON reporting).
"""

from __future__ import annotations

import posixpath
from typing import Any

from threatmodel.evidence.common import ReaderResult, line_of, malformed, parse_date, text_field
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "modelscan"
SUBJECT = "path"
FINDS_UNSAFE_CONTENT = True  # a failure means the artifact's bytes are unsafe to load
JSON = True
ORDER = 20  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "a modelscan JSON report (modelscan -r json)"


def recognises(text: str, document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("summary"), dict) and "issues" in document \
        and "modelscan_version" in document["summary"]


def _resolve(folder: str, path: str) -> str:
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(folder or "/", path))


def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    summary = document["summary"]
    folder = summary.get("absolute_path")
    if not isinstance(folder, str):
        raise malformed(name, "modelscan report: summary.absolute_path must be a string", line_of(text, '"absolute_path"'))
    scanned = (summary.get("scanned") or {}).get("scanned_files", []) if isinstance(summary.get("scanned"), dict) else []
    issues = document.get("issues")
    if not isinstance(scanned, list) or not all(isinstance(p, str) for p in scanned):
        raise malformed(name, "modelscan report: summary.scanned.scanned_files must be a list of paths",
                        line_of(text, '"scanned_files"'))
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise malformed(name, "modelscan report: 'issues' must be a list of objects", line_of(text, '"issues"'))
    result = ReaderResult(date=parse_date(summary.get("timestamp")), roots=[posixpath.normpath(folder)])
    failed: dict[str, list[str]] = {}
    for issue in issues:
        source = issue.get("source")
        if not isinstance(source, str):
            raise malformed(name, "modelscan report: every issue needs a 'source' file", line_of(text, '"issues"'))
        failed.setdefault(_resolve(folder, source), []).append(
            f"{text_field(issue.get('severity', 'issue'), 20)}: {text_field(issue.get('description', ''))}")
    # every scanned file, then any flagged file the summary did not list
    for path in dict.fromkeys([*(_resolve(folder, p) for p in scanned), *failed]):
        result.scope.append(path)
        where = Location(name, line_of(text, path.rsplit("/", 1)[-1]), 1)
        if path in failed:
            result.observations.append(Observation(path, False, "; ".join(failed[path]), where))
        else:
            result.observations.append(Observation(path, True, "no unsafe operators found", where))
    if not result.scope:
        result.notes.append(f"modelscan scanned no files under {folder} (a format it does not read?)")
    for error in document.get("errors") or []:
        result.notes.append(f"modelscan error: {text_field(error, 200)}")
    return result
