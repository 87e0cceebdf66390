"""pip-audit JSON: ``pip-audit -r requirements.txt -f json -o audit.json``.

``dependencies`` lists each package with its ``version`` and ``vulns`` (each with an ``id``,
``fix_versions`` and ``aliases``); packages pip-audit could not check carry ``skip_reason``.
A package with no known vulnerability passes; one with any fails. pip-audit needs the network
to query the vulnerability services, so the tests use recorded output in this documented
format: https://github.com/pypa/pip-audit#output-formats (the "json" format).
"""

from __future__ import annotations

import re
from typing import Any

from threatmodel.evidence.common import ReaderResult, line_of, malformed, text_field
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "pip-audit"
SUBJECT = "package"
JSON = True
ORDER = 30  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "a pip-audit JSON report (pip-audit -f json)"


def normalise(name: str) -> str:
    """A package name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def recognises(text: str, document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("dependencies"), list) and "summary" not in document


def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    result = ReaderResult()
    position = 0
    for dependency in document["dependencies"]:
        if not isinstance(dependency, dict) or not isinstance(dependency.get("name"), str):
            raise malformed(name, "pip-audit report: every dependency needs a 'name'", line_of(text, '"dependencies"'))
        package = normalise(dependency["name"])
        index = text.find(f'"{dependency["name"]}"', position)
        position = max(position, index)
        where = Location(name, text.count("\n", 0, index) + 1 if index >= 0 else 1, 1)
        version = text_field(dependency.get("version", "?"), 40)
        if "skip_reason" in dependency:
            result.notes.append(f"pip-audit skipped {package}: {text_field(dependency['skip_reason'], 200)}")
            continue
        vulns = dependency.get("vulns")
        if not isinstance(vulns, list):
            raise malformed(name, f"pip-audit report: dependency {package!r} needs a 'vulns' list", where.line or 1)
        result.scope.append(package)
        if vulns:
            ids = ", ".join(text_field(v.get("id", "?"), 40) if isinstance(v, dict) else "?" for v in vulns[:5])
            more = f" and {len(vulns) - 5} more" if len(vulns) > 5 else ""
            result.observations.append(Observation(package, False, f"{package} {version}: {len(vulns)} known "
                                                   f"vulnerabilit{'y' if len(vulns) == 1 else 'ies'} ({ids}{more})", where))
        else:
            result.observations.append(Observation(package, True, f"{package} {version}: no known vulnerabilities", where))
    return result
