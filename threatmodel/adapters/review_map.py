"""Foreign threats onto our findings: review-file entries for those that map, a list of the rest.

A foreign threat maps onto the finding of the same catalog threat on the same element when the
file came from our own export, and otherwise onto every finding on that element whose catalog
threat shares a STRIDE letter with it. Where several foreign threats land on one finding, the most open status
wins (an open foreign threat keeps the finding open). A foreign threat without a STRIDE letter,
or on an element where we raise nothing with its letters, is reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..assessment import Assessment
    from .draft import Draft

ORDER = ("open", "in-progress", "accepted", "mitigated", "false-positive", "not-applicable")


@dataclass(frozen=True)
class ReviewEntry:
    finding: str
    status: str
    justification: str


def map_threats(draft: "Draft", assessment: "Assessment") -> tuple[list[ReviewEntry], list[str]]:
    findings: dict[str, list] = {}
    for finding in assessment.findings:
        findings.setdefault(finding.element, []).append(finding)
    chosen: dict[str, tuple[str, list[str]]] = {}
    unmapped: list[str] = []
    for threat in draft.threats:
        if not threat.letters and not any(f.threat.id == threat.source_id for f in findings.get(threat.element, [])):
            unmapped.append(f"'{threat.title}' on {threat.element}: no STRIDE category to match ({threat.status})")
            continue
        here = findings.get(threat.element, [])
        exact = [f for f in here if f.threat.id == threat.source_id]  # a file from our own export
        matches = exact or [f for f in here if set(f.threat.stride) & set(threat.letters)]
        if not matches:
            unmapped.append(f"'{threat.title}' on {threat.element} ({''.join(threat.letters)}, {threat.status}): "
                            "no finding of ours there with those STRIDE letters")
            continue
        why = f"imported from {draft.source_format}: '{threat.title}' was {threat.status}" + (
            f" ({threat.note})" if threat.note else "")
        for finding in matches:
            status, reasons = chosen.get(finding.id, ("not-applicable", []))
            status = min(status, threat.status, key=ORDER.index)
            chosen[finding.id] = (status, reasons + [why])
    entries = [ReviewEntry(finding_id, status, "; ".join(reasons))
               for finding_id, (status, reasons) in sorted(chosen.items()) if status != "open"]
    return entries, unmapped
