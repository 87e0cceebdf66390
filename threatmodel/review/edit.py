"""Update a review file in place, keeping its comments, order and formatting.

``threatmodel review`` uses this instead of asking people to hand-edit YAML. The file is read
and written with ruamel.yaml's round-trip mode, which preserves comments and key order, and
written atomically.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatmodel.core.errors import ChoiceError, Diagnostic, InputError, Location
from threatmodel.core.output import write_atomic

HEADER = ("# threatmodel review file: decisions about findings (keyed by finding id, wildcards allowed)\n"
          "# and the state of mitigations (keyed by mitigation id, optionally @component).\n")


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 16  # never re-wrap lines the team wrote
    return yaml


def update_review(path: Path, section: str, key: str, values: dict[str, str]) -> None:
    """Set ``values`` on entry ``key`` of ``section`` ('findings' or 'mitigations')."""
    from ruamel.yaml.comments import CommentedMap

    yaml = _round_trip()
    if path.exists():
        from threatmodel.core.located_yaml import read_text

        text = read_text(path)  # a regular file within the size limit, or a located error
        try:
            document = yaml.load(text) or CommentedMap()
        except Exception as exc:  # ruamel raises many types; all mean "not valid YAML here"
            message = " ".join(str(exc).split())
            raise InputError([Diagnostic(Location(str(path)), f"cannot update: {message}")]) from None
        if not isinstance(document, CommentedMap):
            raise InputError([Diagnostic(Location(str(path), 1, 1), "expected a mapping at the top of the file")])
        prefix = ""
    else:
        document = CommentedMap()
        prefix = HEADER
    entries = document.get(section)
    if entries is None:
        entries = CommentedMap()
        document[section] = entries
    entry = entries.get(key)
    if not isinstance(entry, CommentedMap):
        entry = CommentedMap()
        entries[key] = entry
    for name, value in values.items():
        if value:
            entry[name] = value
    stream = io.StringIO()
    yaml.dump(document, stream)
    write_atomic(path, prefix + stream.getvalue())


class ReviewChangeError(ChoiceError):
    """A --set or --mitigation argument that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class Decision:
    """What is recorded with every change: justification, evidence, who, when."""

    why: str = ""
    evidence: str = ""
    owner: str = ""
    ticket: str = ""
    reviewer: str = ""
    date: str = ""


def plan_changes(assessment: Any, statuses: list[str], mitigations: list[str], decision: Decision,
                 model_name: str) -> list[tuple[str, str, dict[str, str]]]:
    """Check ``FINDING=STATUS`` and ``MITIGATION[@COMPONENT]=STATE`` arguments against the
    assessment; return (section, key, values) changes for :func:`update_review`."""
    from threatmodel.core.errors import did_you_mean
    from threatmodel.core.vocabulary import MITIGATION_STATES, NEEDS_JUSTIFICATION, STATUSES

    finding_ids = {f.id for f in assessment.findings}
    changes: list[tuple[str, str, dict[str, str]]] = []
    for item in statuses:
        key, separator, value = item.partition("=")
        if not separator or value not in STATUSES:
            raise ReviewChangeError(f"--set {item}: expected FINDING=STATUS with STATUS one of "
                                    f"{', '.join(STATUSES)}")
        if "*" not in key and "?" not in key and key not in finding_ids:
            raise ReviewChangeError(f"no finding '{key}' in {model_name}{did_you_mean(key, finding_ids)}")
        if value in NEEDS_JUSTIFICATION and not decision.why.strip():
            raise ReviewChangeError(f"status '{value}' needs a justification: add --why \"…\"")
        changes.append(("findings", key, {"status": value, "justification": decision.why,
                                          "owner": decision.owner, "ticket": decision.ticket,
                                          "date": decision.date, "reviewer": decision.reviewer}))
    for item in mitigations:
        key, separator, value = item.partition("=")
        mitigation_id = key.split("@", 1)[0]
        if not separator or value not in MITIGATION_STATES:
            raise ReviewChangeError(f"--mitigation {item}: expected ID[@COMPONENT]=STATE with STATE one of "
                                    f"{', '.join(MITIGATION_STATES)}")
        if mitigation_id not in assessment.catalog.catalog.mitigations:
            known = assessment.catalog.catalog.mitigations
            raise ReviewChangeError(f"unknown mitigation '{mitigation_id}'{did_you_mean(mitigation_id, known)}")
        changes.append(("mitigations", key, {"state": value, "evidence": decision.evidence,
                                             "owner": decision.owner, "ticket": decision.ticket,
                                             "date": decision.date}))
    return changes
