"""The typed report model: the published shape of ``report --format json`` (schema version 2).

Every renderer formats the same report data (threatmodel.report_data); this module says what
that data is, as pydantic models. ``docs/report.schema.json`` is generated from it
(``threatmodel schema --report``), a test checks the file is current, and every bundled
example's JSON report is validated against both. Bump ``REPORT_SCHEMA_VERSION`` when a field is
removed or changes meaning; adding a field is compatible.
"""

from __future__ import annotations

import json
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

REPORT_SCHEMA_VERSION = 2

Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["open", "in-progress", "mitigated", "accepted", "false-positive", "not-applicable"]
StrideLetter = Literal["S", "T", "R", "I", "D", "E"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Model):
    name: str
    version: str


class SystemInfo(_Model):
    name: str
    description: str
    owner: str
    version: str


class Coverage(_Model):
    total: int
    resolved: int


class Summary(_Model):
    findings: int = Field(description="number of findings (excluded ones not counted)")
    open: int = Field(description="findings whose status is open or in-progress")
    coverage: dict[Severity, Coverage]
    by_status: dict[Status, int]
    by_severity: dict[Severity, int]
    by_stride: dict[StrideLetter, int]
    by_threat: dict[str, int]
    open_questions: int = Field(description="attributes the model leaves unknown that some threat depends on")


class Tactic(_Model):
    id: str
    name: str


class AtlasTechnique(_Model):
    id: str = Field(description="ATLAS technique id, of the ATLAS version in atlas_version")
    name: str
    tactics: list[Tactic]


class FindingMitigation(_Model):
    id: str
    title: str
    control: Literal["preventive", "detective", "corrective"]
    in_place: bool = Field(description="declared in the model or recorded as implemented in the review")
    state: Literal["", "declared", "implemented", "planned"]


class ReviewDecision(_Model):
    key: str = Field(description="the review-file key that set the status (an id or a wildcard)")
    justification: str
    owner: str
    ticket: str
    date: str
    reviewer: str


class Finding(_Model):
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
    mitigations: list[FindingMitigation]


class NotApplicable(_Model):
    threat: str
    title: str
    stride: list[StrideLetter]
    summary: str
    reasons: list[str]


class Excluded(_Model):
    id: str
    threat: str
    title: str
    element: str
    severity: Severity
    reason: str


class ChecklistItem(_Model):
    id: str
    title: str
    verify: str
    in_place: bool
    state: Literal["", "declared", "implemented", "planned"]
    findings: list[str]
    controls: list[str] = Field(description="controls `threatmodel controls` generates for this item")


class ChecklistGroup(_Model):
    element: str
    items: list[ChecklistItem]


class OpenQuestion(_Model):
    element: str
    attribute: str
    question: str
    affects: list[str] = Field(description="finding ids whose score assumed the unfavourable answer")


class Actor(_Model):
    id: str
    name: str
    kind: str = Field(description="the actor class (catalog/actors.yaml)")
    title: str = Field(description="the actor class's title")
    location: str = Field(description="the boundary the actor sits in, or 'outside'")
    capabilities: list[str]
    derived: bool = Field(description="true when derived from the model rather than declared")


class Report(_Model):
    schema_version: Literal[2]
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


def report_json_schema() -> str:
    """The JSON Schema of the report, as written to docs/report.schema.json."""
    schema = Report.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://github.com/threatmodel/threatmodel/docs/report.schema.json",
              "title": f"threatmodel JSON report, schema version {REPORT_SCHEMA_VERSION}", **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
