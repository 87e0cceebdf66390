"""The team's review of a threat model: finding statuses, mitigation states, residual risk.

A review file (``<model>.status.yaml`` or ``threatmodel.status.yaml`` beside the model, or any
path given with ``--status``) records decisions keyed by stable finding id, with wildcards
(``ML01@*``, ``*@model-file``), and the state of mitigations, optionally scoped to components
(``file-audit-logging@production-model``). Applying it to an assessment gives each finding a
status and a residual score, the overall coverage, and the entries that no longer match.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from threatmodel.analysis.match import Analysis, Finding
from threatmodel.core.errors import Diagnostic, DiagnosticSink, InputError, Location, did_you_mean
from threatmodel.core.located_yaml import YamlMap, load_mapping, locate
from threatmodel.analysis.scoring import credited, describe_credits
from threatmodel.core.diagnostics import diagnostics_from
from threatmodel.core.vocabulary import (NEEDS_JUSTIFICATION, OPEN_STATUSES, FindingStatus as FindingStatusValue,
                                         MitigationState as MitigationStateValue)

if TYPE_CHECKING:
    from threatmodel.evidence import EvidenceEntry
    from threatmodel.evidence.judge import EvidenceVerdicts



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class FindingStatus(_Strict):
    status: FindingStatusValue
    justification: str = ""
    owner: str = ""
    ticket: str = ""
    date: str = ""
    reviewer: str = ""

    @model_validator(mode="after")
    def _justified(self) -> "FindingStatus":
        if self.status in NEEDS_JUSTIFICATION and not self.justification.strip():
            raise ValueError(f"status '{self.status}' needs a justification")
        return self


class MitigationState(_Strict):
    state: MitigationStateValue
    evidence: str = ""
    owner: str = ""
    ticket: str = ""
    date: str = ""


EvidenceTool = Literal["manifest", "modelscan", "picklescan", "fickling", "auditctl", "model-signing", "pip-audit"]


class EvidenceFile(_Strict):
    path: str = Field(min_length=1, description="the evidence file, relative to the review file")
    tool: EvidenceTool | None = Field(default=None, description="the tool that wrote it (default: recognised)")
    covers: list[str] = Field(default_factory=list, description=(
        "the artifact paths (or packages) the output is about, for outputs that do not name them"))
    date: str = Field(default="", description="when the tool ran (ISO 8601), instead of the file's time")

    @model_validator(mode="after")
    def _date(self) -> "EvidenceFile":
        from threatmodel.evidence.common import parse_date

        if self.date and parse_date(self.date) is None:
            raise ValueError(f"date {self.date!r} is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
        return self


class EvidenceSettings(_Strict):
    max_age_days: int = Field(default=30, ge=1, le=3650, description="older evidence is stale")
    files: list[Union[str, EvidenceFile]] = Field(default_factory=list)


class ReviewFile(_Strict):
    findings: dict[str, FindingStatus] = {}
    mitigations: dict[str, MitigationState] = {}
    evidence: EvidenceSettings = EvidenceSettings()


@dataclass
class LoadedReview:
    path: str
    review: ReviewFile
    document: YamlMap | None

    def finding_location(self, key: str) -> Location:
        return _key_location(self.document, "findings", key, self.path)

    def mitigation_location(self, key: str) -> Location:
        return _key_location(self.document, "mitigations", key, self.path)


def _key_location(document: YamlMap | None, section: str, key: str, path: str) -> Location:
    if document is None:
        return Location(path)
    return locate(document, (section, key), key=True) or Location(path, 1, 1)


def default_status_path(model: Path) -> Path | None:
    """``<model>.status.yaml`` beside the model, else ``threatmodel.status.yaml`` there."""
    if str(model) == "-":
        return None
    for candidate in (model.with_name(f"{model.stem}.status.yaml"), model.with_name("threatmodel.status.yaml")):
        if candidate.is_file():
            return candidate
    return None


def load_review(path: Path, display_name: str | None = None) -> LoadedReview:
    from threatmodel.core.errors import InputError

    name = display_name or str(path)
    document = load_mapping(path, name)
    try:
        review = ReviewFile.model_validate(document)
    except ValidationError as exc:
        raise InputError(sorted(set(diagnostics_from(exc, document, name, ReviewFile)))) from None
    return LoadedReview(name, review, document)


@dataclass(frozen=True)
class MitigationCheck:
    """What is known about one mitigation of a finding: verified, contradicted, stale, claimed or missing."""

    mitigation: str
    state: str
    text: str  # e.g. "verified on 2026-11-30 by modelscan.json:1", "claimed (review file)"
    date: str = ""
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewedFinding:
    finding: Finding
    status: str
    decision: FindingStatus | None
    decided_by: str  # the review key that set the status ("" when open by default)
    implemented: tuple[str, ...]  # mitigations the review records as implemented here
    planned: tuple[str, ...]  # partial or planned
    residual_likelihood: int
    residual_score: int
    residual_severity: str
    residual_explanation: str
    checks: tuple[MitigationCheck, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass
class ReviewResult:
    findings: list[ReviewedFinding]
    coverage: dict[str, dict[str, int]]  # severity -> {total, resolved}
    orphans: list[Diagnostic] = field(default_factory=list)
    set_aside: int = 0  # review entries for threats a framework choice left out: kept, not applied

    @property
    def open_findings(self) -> list[ReviewedFinding]:
        return [f for f in self.findings if f.is_open]


def on_path_mitigations(catalog: Any) -> frozenset[str]:
    """Mitigations declared by an ``on_path`` attribute: in front of an element, they protect it."""
    return frozenset(m.id for m in catalog.mitigations.values()
                     if any((info := catalog.attributes.get(f"component.{attribute}")) is not None and info.on_path
                            for declared in m.declared_by for attribute in declared))


def _specificity(pattern: str) -> tuple[int, int]:
    """Exact ids beat wildcards; among wildcards, fewer '*' and longer patterns win."""
    return (-pattern.count("*") - pattern.count("?"), len(pattern))


MAX_WILDCARDS = 10_000  # each is matched against every finding: a bound keeps hostile files fast


def _wildcards(keys: dict[str, object]) -> list[str]:
    return [k for k in keys if any(c in k for c in "*?[")]


def _matching(keys: dict[str, object], wildcards: list[str], identifier: str) -> list[str]:
    """The review keys that name ``identifier``, most specific first: an exact key by lookup,
    then the wildcard keys (only those are matched one by one, so a large review of exact ids
    stays linear)."""
    found = [identifier] if identifier in keys else []
    found += [k for k in wildcards if k != identifier and fnmatch.fnmatchcase(identifier, k)]
    return sorted(found, key=_specificity, reverse=True)


def _check(mitigation_id: str, finding: Finding, implemented: bool, verdicts: "EvidenceVerdicts | None") -> MitigationCheck:
    verdict = verdicts.get(mitigation_id, finding.element, finding.id) if verdicts is not None else None
    if verdict is not None:
        return MitigationCheck(mitigation_id, verdict.state, verdict.describe(), verdict.date, verdict.evidence)
    if mitigation_id in finding.controls_in_place:
        return MitigationCheck(mitigation_id, "claimed", "claimed (declared in the model)")
    if implemented:
        return MitigationCheck(mitigation_id, "claimed", "claimed (review file)")
    return MitigationCheck(mitigation_id, "missing", "missing")


def apply_review(assessment: Analysis, loaded: LoadedReview | None,
                 verdicts: "EvidenceVerdicts | None" = None, left_out: dict[str, Any] | None = None) -> ReviewResult:
    """Apply the review file to the findings. ``left_out``: the threats (id → threat) an analysis
    restricted to some frameworks did not run; entries for them are set aside, not orphans."""
    review = loaded.review if loaded else ReviewFile()
    left_out = left_out or {}
    left_out_mitigations = {m for threat in left_out.values() for m in threat.mitigations}
    set_aside = 0
    sink = DiagnosticSink()
    catalog = assessment.catalog
    for key in review.mitigations:
        mitigation_id = key.split("@", 1)[0]
        if mitigation_id not in catalog.mitigations:
            assert loaded is not None
            sink.error(loaded.mitigation_location(key), f"unknown mitigation '{mitigation_id}'"
                                                        f"{did_you_mean(mitigation_id, catalog.mitigations)}")
    used_findings: set[str] = set()
    used_mitigations: set[str] = set()
    reviewed = []
    finding_wildcards, mitigation_wildcards = _wildcards(review.findings), _wildcards(review.mitigations)
    if len(finding_wildcards) + len(mitigation_wildcards) > MAX_WILDCARDS:
        assert loaded is not None
        raise InputError([Diagnostic(Location(loaded.path, 1, 1),
                                     f"more than {MAX_WILDCARDS:,} wildcard entries; write exact finding ids")])
    on_path = on_path_mitigations(catalog)
    for finding in assessment.findings:
        keys = _matching(review.findings, finding_wildcards, finding.id)
        decision = review.findings[keys[0]] if keys else None
        used_findings.update(keys[:1])
        implemented, planned = [], []
        for mitigation_id in finding.mitigations:
            scoped = _matching(review.mitigations, mitigation_wildcards, f"{mitigation_id}@{finding.element}")
            if not scoped and mitigation_id in on_path:
                # a control that protects what is behind it counts where the review records it on the path
                for node in finding.attack_path[1:-1]:
                    scoped = [k for k in _matching(review.mitigations, mitigation_wildcards, f"{mitigation_id}@{node}")
                              if "*" not in k and "?" not in k]
                    if scoped:
                        break
            plain = [mitigation_id] if mitigation_id in review.mitigations else []
            chosen = (scoped or plain)[:1]
            if not chosen:
                continue
            used_mitigations.add(chosen[0])
            state = review.mitigations[chosen[0]].state
            if state == "implemented":
                implemented.append(mitigation_id)
            elif state in ("partial", "planned"):
                planned.append(mitigation_id)
        checks = tuple(_check(m, finding, m in implemented, verdicts) for m in finding.mitigations)
        reviewed.append(residual(catalog, finding, decision, keys[0] if keys else "", implemented, planned, checks))
    if loaded is not None:
        for key in review.findings:
            if key in used_findings:
                continue
            # an exact id that names a finding is always used; only wildcards need a search
            if key not in finding_wildcards or not any(fnmatch.fnmatchcase(f.id, key) for f in assessment.findings):
                if key.split("@", 1)[0] in left_out:
                    set_aside += 1
                    continue
                sink.warning(loaded.finding_location(key), f"review entry '{key}' matches no finding (orphan)")
        for key in review.mitigations:
            if key not in used_mitigations and key.split("@", 1)[0] in catalog.mitigations:
                if key.split("@", 1)[0] in left_out_mitigations:
                    set_aside += 1
                    continue
                sink.warning(loaded.mitigation_location(key),
                             f"mitigation entry '{key}' applies to no finding (orphan)")
    coverage: dict[str, dict[str, int]] = {}
    for item in reviewed:
        bucket = coverage.setdefault(item.finding.score.severity, {"total": 0, "resolved": 0})
        bucket["total"] += 1
        bucket["resolved"] += 0 if item.is_open else 1
    sink.raise_if_errors()
    return ReviewResult(reviewed, coverage, sink.warnings, set_aside)


def in_place(finding: Finding, implemented: list[str] | tuple[str, ...],
             checks: tuple[MitigationCheck, ...] = ()) -> tuple[list[str], list[str]]:
    """(mitigations in place, mitigations the evidence contradicts): declared in the model,
    recorded implemented or verified by evidence, and not contradicted. One fact, one effect:
    where the fact comes from does not change what it earns."""
    state = {c.mitigation: c.state for c in checks}
    contradicted = [m for m in finding.mitigations if state.get(m) == "contradicted"]
    present = [m for m in finding.mitigations
               if (m in finding.controls_in_place or m in implemented or state.get(m) == "verified")
               and m not in contradicted]
    return present, contradicted


def residual_rating(catalog: Any, finding: Finding, implemented: list[str] | tuple[str, ...],
                    checks: tuple[MitigationCheck, ...] = ()) -> tuple[int, str]:
    """The residual (score, severity) alone, as :func:`residual` rates it, for callers that try
    many sets of controls (the fix plan) and need no explanation."""
    likelihood_credit, impact_credit, _ = credited(catalog, finding.threat, in_place(finding, implemented, checks)[0])
    return _lowered(finding, likelihood_credit, impact_credit)[2:]


def _lowered(finding: Finding, likelihood_credit: int, impact_credit: int) -> tuple[int, int, int, str]:
    """(likelihood, impact, score, severity) of the finding before controls, less these credits."""
    score = finding.score
    likelihood = max(1, (score.base_likelihood or score.likelihood) - likelihood_credit)
    impact = max(1, (score.base_impact or score.impact) - impact_credit)
    return (likelihood, impact, *score.rated(likelihood, impact))


def residual(catalog: Any, finding: Finding, decision: FindingStatus | None, key: str, implemented: list[str],
              planned: list[str], checks: tuple[MitigationCheck, ...] = ()) -> ReviewedFinding:
    """Residual risk: the finding's score before controls, lowered by what every control in place
    earns by its class and role (scoring.control_credit); a control the evidence contradicts earns
    nothing, declared or not."""
    score = finding.score
    present, contradicted = in_place(finding, implemented, checks)
    likelihood_credit, impact_credit, credits = credited(catalog, finding.threat, present)
    base_likelihood = score.base_likelihood or score.likelihood
    likelihood, impact, value, severity = _lowered(finding, likelihood_credit, impact_credit)
    if credits:
        explanation = (f"likelihood {base_likelihood} before controls, − {likelihood_credit} for "
                       f"{describe_credits(credits)} = {likelihood}; × impact {impact}"
                       + (f" (− {impact_credit})" if impact_credit else "") + f" = {value}, {severity}")
    else:
        explanation = f"no mitigation in place: {value}, {severity}"
    if contradicted:
        explanation += f" (no credit for {', '.join(contradicted)}: contradicted by evidence)"
    return ReviewedFinding(
        finding=finding, status=decision.status if decision else "open", decision=decision, decided_by=key,
        implemented=tuple(implemented), planned=tuple(planned), residual_likelihood=likelihood,
        residual_score=value, residual_severity=severity, residual_explanation=explanation,
        checks=checks,
    )


def evidence_entries(review: LoadedReview | None, extra: Iterable[str | Path] = ()) -> list[EvidenceEntry]:
    """The evidence files to read: those the review file lists (relative to it), then ``extra``."""
    import posixpath

    from threatmodel.evidence import EvidenceEntry
    from threatmodel.evidence.common import HASH_SUFFIX, parse_date

    entries: list[EvidenceEntry] = []
    if review is not None:
        folder = Path(review.path).parent if review.path != "-" else Path(".")
        for index, item in enumerate(review.review.evidence.files):
            spec = item if not isinstance(item, str) else None
            path = item if isinstance(item, str) else item.path
            resolved = Path(path) if Path(path).is_absolute() else folder / path
            display = str(resolved) if not Path(path).is_absolute() and str(folder) != "." else path
            location = locate(review.document, ("evidence", "files", index)) if review.document is not None else None
            # a folder (the scan script's ./evidence) stands for the files in it
            files = [(str(f), f) for f in sorted(resolved.iterdir()) if not f.name.startswith(".") and not f.is_dir()
                     and not f.name.endswith(HASH_SUFFIX)] \
                if resolved.is_dir() else [(display, resolved)]
            for shown, target in files:
                entries.append(EvidenceEntry(
                    path=shown, resolved=str(target), tool=(spec.tool or "") if spec else "",
                    covers=tuple(posixpath.normpath(c) for c in spec.covers) if spec else (),
                    date=parse_date(spec.date) if spec and spec.date else None, location=location))
    for path in extra:
        if Path(path).is_dir():  # a folder of evidence (the scan script's ./evidence): its files
            entries += [EvidenceEntry(path=str(f), resolved=str(f)) for f in sorted(Path(path).iterdir())
                        if not f.name.startswith(".") and not f.is_dir() and not f.name.endswith(HASH_SUFFIX)]
        elif not (str(path).endswith(HASH_SUFFIX) and Path(str(path)[:-len(HASH_SUFFIX)]).is_file()):
            entries.append(EvidenceEntry(path=str(path), resolved=str(path)))  # hash files are read with their evidence
    return entries
