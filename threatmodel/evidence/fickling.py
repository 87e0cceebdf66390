"""fickling (Trail of Bits) safety results: ``fickling --check-safety --json-output out.json FILE``.

The JSON has a ``severity`` (``LIKELY_SAFE`` … ``OVERTLY_MALICIOUS``) and an ``analysis`` text;
it does not name the file, so the evidence entry says which artifact it covers (``covers:`` in
the review file). ``LIKELY_SAFE`` passes; any other severity fails. fickling's middle verdicts (``POSSIBLY_UNSAFE``,
``SUSPICIOUS``, ``LIKELY_UNSAFE``) are heuristics that also fire on harmless pickles (a numpy
array); they are weak: modelscan or picklescan passing the same file overrule them, and the
verdict says so (docs/evidence.md).
Format: https://github.com/trailofbits/fickling (``--json-output``).
"""

from __future__ import annotations

import posixpath
from typing import Any

from threatmodel.evidence.common import ReaderResult, line_of, malformed, text_field
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "fickling"
SUBJECT = "path"
FINDS_UNSAFE_CONTENT = True  # a failure means the artifact's bytes are unsafe to load
JSON = True
ORDER = 40  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "fickling --check-safety --json-output results"
SEVERITIES = ("LIKELY_SAFE", "POSSIBLY_UNSAFE", "SUSPICIOUS", "LIKELY_UNSAFE", "LIKELY_OVERTLY_MALICIOUS",
              "OVERTLY_MALICIOUS")


def recognises(text: str, document: Any) -> bool:
    return isinstance(document, dict) and "severity" in document and "analysis" in document


def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    severity = document.get("severity")
    if severity not in SEVERITIES:
        raise malformed(name, f"fickling results: unknown severity {text_field(severity, 40)!r} "
                              f"(expected one of {', '.join(SEVERITIES)})", line_of(text, '"severity"'))
    where = Location(name, line_of(text, '"severity"'), 1)
    ok = severity == "LIKELY_SAFE"
    analysis = text_field(document.get("analysis", ""), 300).strip().splitlines()
    detail = "no overtly unsafe code found (LIKELY_SAFE)" if ok else f"{severity}: {analysis[0] if analysis else ''}"
    result = ReaderResult(scope=list(entry.covers))
    weak = severity in ("POSSIBLY_UNSAFE", "SUSPICIOUS", "LIKELY_UNSAFE")
    result.roots = [posixpath.normpath(path) for path in entry.covers]
    result.observations = [Observation(posixpath.normpath(path), ok, detail, where, weak=weak) for path in entry.covers]
    if not entry.covers:
        result.notes.append("fickling results do not name the file; say which with 'covers:' in the review file")
    return result
