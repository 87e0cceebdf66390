"""The typed report model: the published shape of ``report --format json`` (``REPORT_SCHEMA_VERSION``).

Every renderer formats the same report data (threatmodel.report.build); this module says what
that data is, as pydantic models. ``docs/report.schema.json`` is generated from it
(``threatmodel schema --report``), a test checks the file is current, and every bundled
example's JSON report is validated against both. Bump ``REPORT_SCHEMA_VERSION`` when a field is
removed or changes meaning; adding a field is compatible.
"""

from __future__ import annotations

import json
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from threatmodel._version import REPORT_SCHEMA_VERSION
from threatmodel.core.vocabulary import FindingStatus as Status, OwnerRole, Severity, Verification

StrideLetter = Literal["S", "T", "R", "I", "D", "E"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Model):
    """The program that wrote the report."""

    name: str
    version: str


class SystemInfo(_Model):
    """The system's header, as the model states it."""

    name: str
    description: str
    owner: str
    version: str


class Coverage(_Model):
    """Findings of one severity, and how many the review resolved."""

    total: int
    resolved: int


class Summary(_Model):
    """Counts over the findings."""

    findings: int = Field(description="number of findings (excluded ones not counted)")
    open: int = Field(description="findings whose status is open or in-progress")
    coverage: dict[Severity, Coverage]
    by_status: dict[Status, int]
    by_severity: dict[Severity, int]
    by_stride: dict[StrideLetter, int]
    by_threat: dict[str, int]
    open_questions: int = Field(description="attributes the model leaves unknown that some threat depends on")
    verification: dict[Verification, int] = Field(description="finding mitigations per verification state")


class Tactic(_Model):
    """An ATLAS tactic."""

    id: str
    name: str


class AtlasTechnique(_Model):
    """An ATLAS technique a finding maps to, with its tactics."""

    id: str = Field(description="ATLAS technique id, of the ATLAS version in atlas_version")
    name: str
    tactics: list[Tactic]


class FindingMitigation(_Model):
    """A catalog mitigation that fits the finding's element, with its state."""

    id: str
    title: str
    control: Literal["preventive", "detective", "corrective"]
    owner: OwnerRole = Field(description="the role that usually does the work")
    in_place: bool = Field(description="declared in the model or recorded as implemented in the review, "
                                       "and not contradicted by evidence")
    state: Literal["", "declared", "implemented", "planned"]
    verification: Verification = Field(description="what the evidence shows (docs/evidence.md)")
    verification_text: str = Field(description="e.g. 'verified on 2026-11-30 by modelscan.json:1'")


class ReviewDecision(_Model):
    """The review-file entry that set a finding's status."""

    key: str = Field(description="the review-file key that set the status (an id or a wildcard)")
    justification: str
    owner: str
    ticket: str
    date: str
    reviewer: str


class Finding(_Model):
    """One threat on one element: why, who, how likely, what to do."""

    id: str = Field(description="stable id: THREAT@element")
    threat: str
    title: str
    threat_title: str
    stride: list[StrideLetter]
    element: str
    element_type: Literal["component", "flow"]
    element_kind: str
    severity: Severity
    score: int = Field(ge=1, le=25)
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    score_explanation: str
    status: Status
    review: Optional[ReviewDecision]
    residual_score: int
    residual_severity: Severity
    residual_explanation: str
    evidence: list[str] = Field(description="why the threat applies here, as found in the graph")
    attack_path: list[str] = Field(description="component ids from the attacker's starting point to the element")
    actor: Optional[str] = Field(description="the actor whose reach the attack path follows, if any")
    open_questions: list[str] = Field(description="unknown attributes that affected this finding's score")
    atlas: list[AtlasTechnique]
    frameworks: list[str] = Field(description="edition-pinned OWASP entries the threat covers (ML01:2023, LLM01:2025, ASI01:2026)")
    mitigations: list[FindingMitigation]


class NotApplicable(_Model):
    """A catalog threat that raised nothing, and why not."""

    threat: str
    title: str
    stride: list[StrideLetter]
    summary: str
    reasons: list[str]


class Excluded(_Model):
    """A finding the model excludes, with the team's reason."""

    id: str
    threat: str
    title: str
    element: str
    severity: Severity
    reason: str


class ChecklistItem(_Model):
    """A mitigation to put in place on one element."""

    id: str
    title: str
    verify: str
    owner: OwnerRole
    in_place: bool
    state: Literal["", "declared", "implemented", "planned"]
    verification: Verification = Field(description="the most worrying state among the findings it serves")
    verification_text: str
    findings: list[str]
    controls: list[str] = Field(description="controls `threatmodel controls` generates for this item")


class ChecklistGroup(_Model):
    """The checklist items of one element."""

    element: str
    items: list[ChecklistItem]


class OpenQuestion(_Model):
    """An attribute the model leaves unknown that some finding depends on."""

    element: str
    attribute: str
    question: str
    affects: list[str] = Field(description="finding ids whose score assumed the unfavourable answer")


class Actor(_Model):
    """Someone who can attack the system, derived from the model or declared."""

    id: str
    name: str
    kind: str = Field(description="the actor class (catalog/actors.yaml)")
    title: str = Field(description="the actor class's title")
    location: str = Field(description="the boundary the actor sits in, or 'outside'")
    capabilities: list[str]
    derived: bool = Field(description="true when derived from the model rather than declared")


class EvidenceRead(_Model):
    """An evidence file the review read (docs/evidence.md)."""

    file: str
    tool: str
    mitigation: str = Field(description="the catalog mitigation the tool's output speaks to")
    date: str = Field(description="when the tool ran (ISO 8601)")
    date_source: Literal["content", "review file", "file time"]
    about: list[str] = Field(description="the artifacts or packages the output is about (at most 50)")
    notes: list[str]


class Lowered(_Model):
    """A finding a plan step lowers."""

    finding: str
    actor: Optional[str]
    path: str = Field(description="from the actor's starting point to the element, joined by →")
    before: int = Field(description="residual score before this step")
    after: int = Field(description="residual score after it")
    severity: Severity = Field(description="residual severity after it")


class ResidualAfter(_Model):
    total: int = Field(description="sum of the residual scores of the open findings")
    high_or_critical: int = Field(description="open findings whose residual severity is high or critical")


class PlanStep(_Model):
    """One step of the fix plan: a mitigation on one or more elements, and the findings it lowers."""

    order: int
    mitigation: str
    elements: list[str]
    owner: OwnerRole
    effort: Literal["low", "medium", "high"]
    control: Literal["preventive", "detective", "corrective"]
    why: str = Field(description="the mechanism it addresses, from the catalog (primary or supporting)")
    moved: list[str] = Field(description="placements on the team's component in front of a third-party element")
    lowers: list[Lowered]
    residual_after: ResidualAfter


class Handled(_Model):
    finding: str
    path: str
    by: list[str] = Field(description="controls in place (declared, claimed or verified) that bring it below high")
    residual: int
    severity: Severity


class PlanDecision(_Model):
    """A finding the plan cannot bring below high: accept it with a reason, or change the design."""

    finding: str
    residual: int
    severity: Severity
    reason: str
    redesign: str = Field(description="the design change the catalog names for this threat")


class TreeRoute(_Model):
    actor: str = Field(description="the actor that takes this way in")
    entry_point: str = Field(description="where the path enters the system")
    route: str = Field(description="the attack path, 'a → b → c'")


class TreeAttack(_Model):
    """One AND node of an attack tree: the finding on one element, its ways in (OR) and what stops it."""

    finding: str
    element: str
    severity: Severity = Field(description="the residual severity")
    score: int = Field(description="the residual score")
    routes: list[TreeRoute] = Field(description="the ways in, any of which will do")
    in_place: str = Field(description="controls in place that lower it but not below high, or ''")
    cut: Literal["done", "cut", "open"] = Field(
        description="'done': below high by controls in place; 'cut': a plan step brings it below high; "
                    "'open': a decision is needed")
    cut_label: str = Field(description="what brings it below high (mitigation on element), or ''")


class AttackTree(_Model):
    goal: str = Field(description="the catalog threat whose success is the attacker's goal")
    title: str = Field(description="the threat's name")
    elements: list[str] = Field(description="the elements where it succeeds, most exposed first")
    attacks: list[TreeAttack] = Field(description="OR over the elements; per element, an AND of a way in "
                                                  "(OR over the actors' paths) and no control that stops it")


class FixPlan(_Model):
    """Fix these first: the mitigations that bring every open finding below high (docs/review.md)."""

    targets: int = Field(description="open findings whose residual is high or critical")
    cost: int = Field(description="sum of the plan's effort weights (low 1, medium 3, high 8)")
    residual_before: ResidualAfter
    high_after: int = Field(description="open findings still high or critical after every step")
    steps: list[PlanStep]
    handled: list[Handled]
    decisions: list[PlanDecision]
    trees: list[AttackTree]
    more_goals: list[str] = Field(description="threats beyond the first 20 trees, by id")


class Report(_Model):
    """The whole report (`report --format json`)."""

    schema_version: Literal[5]
    tool: Tool
    atlas_version: str
    review_file: Optional[str]
    system: SystemInfo
    summary: Summary
    actors: list[Actor]
    findings: list[Finding]
    open_questions: list[OpenQuestion]
    not_applicable: list[NotApplicable]
    excluded: list[Excluded]
    checklist: list[ChecklistGroup]
    evidence: list[EvidenceRead] = Field(description="evidence files read (schema version 2 added this key)")
    plan: Optional[FixPlan] = Field(description="fix these first (schema version 2 added this key; 3 changed its shape)")


def report_json_schema() -> str:
    """The JSON Schema of the report, as written to docs/report.schema.json."""
    schema = Report.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://github.com/threatmodel/threatmodel/docs/report.schema.json",
              "title": f"threatmodel JSON report, schema version {REPORT_SCHEMA_VERSION}", **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


INTRO = """# The JSON report

<!-- Generated from threatmodel/report/model.py: python -m threatmodel.report.model > docs/report-json.md -->

`threatmodel report SYSTEM.yaml --format json` writes one JSON object whose shape is published as
a JSON Schema in [report.schema.json](report.schema.json) (`threatmodel schema --report`), and is
the `Report` model of `threatmodel.report.model` for Python callers (`threatmodel.analyze(...).report`).
Key order is fixed, findings are sorted by score (highest first) then id, every other list is
sorted, and two runs on the same input give byte-identical output. Each top-level key is on its
own line and each list item on its own line, so reports diff well in version control.

`schema_version` is {version}; it changes when a field is removed or changes meaning (adding a
field is compatible). Version 2 added actors, open questions and each finding's actor. Version 5
replaced the Mermaid text of each attack tree in the plan (`trees[].mermaid`) with the tree as data
(`trees[].attacks`: per element, its ways in and what stops it); the Markdown and HTML reports still
draw each tree in Mermaid.
"""


NOTES = {
    "schema_version": "the report format's version", "tool": "the program that wrote the report",
    "atlas_version": "the MITRE ATLAS release of the catalog's index, e.g. 5.6.0",
    "review_file": "the review file applied, relative to the model's folder; null when none",
    "summary": "counts", "actors": "who can attack the system", "findings": "highest score first, then id",
    "open_questions": "unknown attributes and the findings they affect",
    "not_applicable": "catalog threats that raised nothing", "excluded": "findings the model excludes",
    "checklist": "mitigations grouped by the element they protect", "coverage": "per severity",
    "by_status": "findings per review status", "by_severity": "findings per severity",
    "by_stride": "findings per STRIDE letter", "by_threat": "findings per catalog threat",
    "title": "short title", "threat_title": "the official title", "stride": "STRIDE letters",
    "element_type": "component or flow", "element_kind": "the component's kind, or flow",
    "severity": "see scoring.md", "score": "likelihood × impact", "score_explanation": "every adjustment, in words",
    "status": "from the review file; open by default", "review": "the decision that set the status, if any",
    "residual_score": "after mitigations the review records as implemented",
    "residual_explanation": "how the residual score was reached", "atlas": "ATLAS techniques",
    "mitigations": "the threat's mitigations that fit this element", "capabilities": "NIST AI 100-2 capabilities",
    "question": "what to state in the model to answer it", "reasons": "why each rule did not hold",
    "reason": "the team's reason", "items": "mitigations", "verify": "how a reviewer checks it",
}


def _type_name(annotation: object) -> str:
    import re

    text = str(annotation).replace("typing.", "")
    text = re.sub(r"<class '(?:[\w]+\.)*(\w+)'>", r"\1", text)
    text = re.sub(r"(?:[A-Za-z_]\w*\.)+([A-Z]\w*)", r"\1", text)
    optional = re.fullmatch(r"Optional\[(.*)\]", text)
    return f"{optional.group(1)} or null" if optional else text


def report_reference_markdown() -> str:
    """docs/report-json.md: one table per object of the report, from the models' fields."""
    sections = [INTRO.replace("{version}", str(REPORT_SCHEMA_VERSION))]
    models: list[type[BaseModel]] = [Report, Summary, Actor, Finding, FindingMitigation, ReviewDecision,
                                     AtlasTechnique, OpenQuestion, NotApplicable, Excluded, ChecklistGroup,
                                     ChecklistItem]
    for model in models:
        rows = [f"## `{model.__name__}`", "", (model.__doc__ or "").strip() if model.__doc__ else "",
                "", "| key | type | meaning |", "|---|---|---|"]
        for name, field in model.model_fields.items():
            meaning = (field.description or NOTES.get(name, "")).replace("|", "\\|")
            rows.append(f"| `{name}` | `{_type_name(field.annotation)}` | {meaning} |")
        sections.append("\n".join(line for line in rows if line is not None) + "\n")
    return "\n".join(sections)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(report_reference_markdown())
