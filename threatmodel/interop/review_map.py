"""Foreign threats onto our findings: review-file entries for those that land, a list of the rest.

A foreign threat lands on a finding of ours on the same element:

- *exactly*, when the file came from our own export (it carries our catalog id);
- *by meaning*, when its title, description or mitigation uses the words of one of our threats
  (``catalog/interop/threats.yaml``: phrases, and the words of the threat's title and aliases) or
  names one of its CWEs, and its STRIDE category, if it gives one, agrees with the threat's;
- *by category*, when it gives a STRIDE category, nothing in its words decides, and exactly one
  finding on that element shares the category.

Each landing is an entry of the review file with the foreign status and a justification that
says which foreign threat it was and why it matched. Where several foreign threats land on one
finding, the most open status wins (an open foreign threat keeps the finding open). A foreign
threat that lands nowhere is listed with the reason, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment
    from threatmodel.system.draft import Draft, SourceThreat

ORDER = ("open", "in-progress", "accepted", "mitigated", "false-positive", "not-applicable")
STOP_WORDS = frozenset("""a an and are as at be by for from in into is it its of on or the this that to
through with without via their than these those what when where which who whom""".split())
WORD = re.compile(r"[a-z0-9]+(?:[-_/][a-z0-9]+)*")


@dataclass(frozen=True)
class ReviewEntry:
    finding: str
    status: str
    justification: str


@dataclass
class Mapping:
    entries: list[ReviewEntry] = field(default_factory=list)
    mitigations: dict[str, str] = field(default_factory=dict)  # mitigation@element -> state (our own exports)
    unmapped: list[str] = field(default_factory=list)
    landed: list[tuple["SourceThreat", list[str], str]] = field(default_factory=list)  # threat, finding ids, why


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    parts = []
    for word in phrase.lower().split():
        stem = word.rstrip("*")
        parts.append(re.escape(stem) + (r"[a-z0-9'-]*" if word.endswith("*") else ""))
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(parts) + r"(?![a-z0-9])")


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, tuple[list[re.Pattern[str]], set[str]]]:
    from threatmodel.core.located_yaml import load_mapping
    from threatmodel.core.resources import catalog_dir

    table = load_mapping(catalog_dir() / "interop" / "threats.yaml", "catalog/interop/threats.yaml")
    return {str(threat): ([_phrase_pattern(str(p)) for p in entry.get("phrases") or []],
                          {str(c) for c in entry.get("cwe") or []})
            for threat, entry in table["threats"].items()}


def _words(text: str) -> set[str]:
    return {w.rstrip("s") if len(w) > 4 else w for w in WORD.findall(text.lower()) if w not in STOP_WORDS}


def _cwe_numbers(values: tuple[str, ...]) -> set[str]:
    return {m for v in values for m in re.findall(r"\d+", str(v))}


def _title_words(catalog_threat: Any) -> set[str]:
    ours: set[str] = set()
    for title in (catalog_threat.title, *catalog_threat.aliases):
        ours |= _words(re.sub(r"^[A-Z]+\d+:\d{4}\s+", "", title))
    return ours


def meanings(threat: "SourceThreat", catalog_threats: list[Any], vocabulary: dict[str, Any],
             mitigations: dict[str, Any] | None = None) -> dict[str, str]:
    """The threats of ours that ``threat`` means, each with why. Read in tiers, the first that
    means anything deciding: its title and CWEs, then its description, then its mitigation text
    (a supply-chain threat whose mitigation says "check TLS" is not a transit threat); last, the
    threats whose mitigations its mitigation text names."""
    cwes = _cwe_numbers(threat.cwes)
    tiers = [(threat.title, True), (threat.description, False), (threat.note, False)]
    for text, first in tiers:
        lowered = text.lower()
        found: dict[str, str] = {}
        for catalog_threat in catalog_threats:
            if not _agrees(threat, catalog_threat):
                continue
            patterns, their_cwes = vocabulary.get(catalog_threat.id, ([], set()))
            shared_cwe = sorted(cwes & their_cwes, key=int) if first else []
            match = next((m for m in (p.search(lowered) for p in patterns) if m), None)
            shared = sorted(_words(text) & _title_words(catalog_threat)) if first else []
            if shared_cwe:
                found[catalog_threat.id] = f"CWE-{shared_cwe[0]}"
            elif match:
                found[catalog_threat.id] = f"'{match.group()}'" + ("" if first else " in its description" if text is threat.description else " in its mitigation")
            elif len(shared) >= 2:
                found[catalog_threat.id] = "the words " + ", ".join(f"'{w}'" for w in shared[:3])
        strong = {k: v for k, v in found.items() if not v.startswith("the words")}
        if strong or found:  # a phrase or a CWE says more than shared title words
            return strong or found
    return _by_mitigation(threat, catalog_threats, mitigations or {})


def _by_mitigation(threat: "SourceThreat", catalog_threats: list[Any], mitigations: dict[str, Any]) -> dict[str, str]:
    """Last: the threats of ours whose mitigation the foreign mitigation text names (two or more
    words of its title: "rate limiting of queries" is our query-rate-limiting)."""
    said = _words(threat.note)
    if not said:
        return {}
    overlap = {m.id: len(said & _words(m.title)) for m in mitigations.values()}
    best = max(overlap.values(), default=0)
    if best < 2:
        return {}
    named = {m: mitigations[m].title for m, count in overlap.items() if count == best}
    found = {}
    for catalog_threat in catalog_threats:  # a threat whose first mitigations it is
        hit = next((m for m in catalog_threat.mitigations[:2] if m in named), None)
        if hit and _agrees(threat, catalog_threat):
            found[catalog_threat.id] = f"its mitigation, our '{named[hit]}'"
    return found


def _agrees(threat: "SourceThreat", catalog_threat: Any) -> bool:
    return not threat.letters or bool(set(catalog_threat.stride) & set(threat.letters))


def map_threats(draft: "Draft", assessment: "Assessment") -> Mapping:
    words = vocabulary()
    catalog_threats = list(assessment.catalog.catalog.threats.values())
    our_mitigations = assessment.catalog.catalog.mitigations
    findings: dict[str, list[Any]] = {}
    for finding in assessment.findings:
        findings.setdefault(finding.element, []).append(finding)
    chosen: dict[str, tuple[str, list[str]]] = {}
    result = Mapping()
    for threat in draft.threats:
        if not threat.element:
            _system_wide(threat, assessment.findings, catalog_threats, words, our_mitigations, draft.source_format,
                         chosen, result)
            continue
        here = findings.get(threat.element, [])
        label = f"'{threat.title}' on {threat.element}"
        matches = [f for f in here if threat.source_id and f.threat.id == threat.source_id]
        how = "the same threat, exported by threatmodel" if matches else ""
        meant: dict[str, str] = {}
        if not matches:
            meant = meanings(threat, catalog_threats, words, our_mitigations)
            matches = [f for f in here if f.threat.id in meant]
            if matches:
                how = "; ".join(f"{f.threat.id} by {meant[f.threat.id]}" for f in matches)
        if not matches and threat.letters:
            sharing = [f for f in here if set(f.threat.stride) & set(threat.letters)]
            if len(sharing) == 1:
                matches, how = sharing, f"STRIDE category {''.join(threat.letters)} only (the one finding there with it)"
            elif sharing:
                result.unmapped.append(f"{label} ({''.join(threat.letters)}, {threat.status}): {len(sharing)} findings "
                                       "there share its STRIDE category and nothing in its words tells which")
                continue
        if not matches:
            if meant:
                reason = f"it means {', '.join(sorted(meant))}, which we do not raise on that element"
            elif not here:
                reason = "we raise no finding on that element"
            elif threat.letters:
                reason = f"no finding of ours there means it or shares its STRIDE category {''.join(threat.letters)}"
            else:
                reason = "no finding of ours there means it (it gives no STRIDE category)"
            result.unmapped.append(f"{label} ({threat.status}): {reason}")
            continue
        exact = bool(threat.source_id) and all(f.threat.id == threat.source_id for f in matches)
        if exact:
            for mitigation, state in threat.mitigations:
                result.mitigations.setdefault(f"{mitigation}@{threat.element}", state)
        if exact and threat.status == "open" and not threat.note:
            continue  # our own export, nothing decided: nothing to carry
        why = (threat.note if exact and threat.note else
               f"imported from {draft.source_format}: '{threat.title}' was {threat.status}"
               + (f" ({threat.note})" if threat.note else "") + f"; matched {how}")
        result.landed.append((threat, [f.id for f in matches], how))
        for finding in matches:
            status, reasons_so_far = chosen.get(finding.id, ("not-applicable", []))
            status = min(status, threat.status, key=ORDER.index)
            chosen[finding.id] = (status, reasons_so_far + [why])
    result.entries = [ReviewEntry(finding_id, status, "; ".join(reasons))
                      for finding_id, (status, reasons) in sorted(chosen.items())]
    return result


def _system_wide(threat: "SourceThreat", every: list[Any], catalog_threats: list[Any], words: dict[str, Any],
                 mitigations: dict[str, Any], source_format: str, chosen: dict[str, tuple[str, list[str]]],
                 result: Mapping) -> None:
    """A foreign threat that names no element lands, by meaning only, on every finding of the
    threat it means; it keeps those findings open (a decision about the whole system is checked
    element by element), saying what the source's status was."""
    meant = meanings(threat, catalog_threats, words, mitigations)
    matches = [f for f in every if f.threat.id in meant]
    if not matches:
        result.unmapped.append(f"'{threat.title}' (the whole system, {threat.status}): "
                               + (f"it means {', '.join(sorted(meant))}, which we raise nowhere" if meant
                                  else "no threat of ours means it"))
        return
    how = "; ".join(f"{t} by {meant[t]}" for t in sorted({f.threat.id for f in matches}))
    why = (f"imported from {source_format}: '{threat.title}' (names no element; was {threat.status}"
           + (f", {threat.note}" if threat.note else "") + f") matched {how}; check it here")
    result.landed.append((threat, [f.id for f in matches], how))
    for finding in matches:
        status, reasons_so_far = chosen.get(finding.id, ("not-applicable", []))
        chosen[finding.id] = (min(status, "open", key=ORDER.index), reasons_so_far + [why])
