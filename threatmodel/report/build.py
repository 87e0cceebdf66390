"""An assessment as plain data: the one structure every report format is rendered from.

Markdown, HTML and JSON all take this dictionary; none of them computes anything. Keys are in a
fixed order and every list is sorted, so the same model gives byte-identical reports.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from threatmodel._version import __version__
from threatmodel.analysis.match import Analysis, Finding
from threatmodel.review.statuses import ReviewedFinding, ReviewResult
from threatmodel.core.vocabulary import OPEN_STATUSES, SEVERITIES, STATUSES, VERIFICATION_STATES
from threatmodel.catalog.model import STRIDE_LETTERS
from threatmodel._version import REPORT_SCHEMA_VERSION
from threatmodel.report.graph_data import atlas_technique_data, graph_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment
    from threatmodel.report.model import Report
    from threatmodel.review.plan import Plan



class _ThreatViews:
    """ATLAS and mitigation details per threat, built once and shared by its findings."""

    def __init__(self, assessment: Analysis) -> None:
        self.catalog = assessment.catalog
        self.atlas: dict[str, list[dict[str, Any]]] = {}
        self.mitigations: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}

    def mitigations_for(self, mitigation_ids: tuple[str, ...], states: tuple[str, ...],
                        checks: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """The mitigation list for one set of fitting mitigations and states, shared by findings."""
        key = (mitigation_ids, states, checks)
        if key not in self.mitigations:
            catalog = self.catalog
            verified = {c.mitigation: c for c in checks}
            self.mitigations[key] = [
                {"id": m, "title": catalog.mitigations[m].title, "control": catalog.mitigations[m].control,
                 "owner": catalog.mitigations[m].owner,
                 "in_place": state in ("declared", "implemented") and _state(verified, m) != "contradicted",
                 "state": state, "verification": _state(verified, m),
                 "verification_text": verified[m].text if m in verified else "missing"}
                for m, state in zip(mitigation_ids, states)
            ]
        return self.mitigations[key]

    def atlas_for(self, threat_id: str) -> list[dict[str, Any]]:
        if threat_id not in self.atlas:
            threat = self.catalog.threats[threat_id]
            self.atlas[threat_id] = [atlas_technique_data(self.catalog.atlas, link.id) for link in threat.atlas]
        return self.atlas[threat_id]


def _state(checks: dict[str, Any], mitigation_id: str) -> str:
    check = checks.get(mitigation_id)
    return check.state if check is not None else "missing"


def _mitigation_state(mitigation_id: str, finding: Finding, reviewed: ReviewedFinding | None) -> str:
    if mitigation_id in finding.controls_in_place:
        return "declared"
    if reviewed is not None and mitigation_id in reviewed.implemented:
        return "implemented"
    if reviewed is not None and mitigation_id in reviewed.planned:
        return "planned"
    return ""


def finding_data(assessment: Analysis, finding: Finding, views: _ThreatViews | None = None,
                 reviewed: ReviewedFinding | None = None) -> dict[str, Any]:
    threat = finding.threat
    views = views or _ThreatViews(assessment)
    decision = reviewed.decision if reviewed else None
    states = tuple(_mitigation_state(m, finding, reviewed) for m in finding.mitigations)
    return {
        "id": finding.id,
        "threat": threat.id,
        "title": threat.name,
        "threat_title": threat.title,
        "stride": list(threat.stride),
        "element": finding.element,
        "element_type": finding.element_type,
        "element_kind": (assessment.graph.component(finding.element).kind
                         if finding.element_type == "component" else "flow"),
        "severity": finding.score.severity,
        "score": finding.score.value,
        "likelihood": finding.score.likelihood,
        "impact": finding.score.impact,
        "score_explanation": finding.score.explanation,
        "status": reviewed.status if reviewed else "open",
        "review": ({"key": reviewed.decided_by, "justification": decision.justification, "owner": decision.owner,
                    "ticket": decision.ticket, "date": decision.date, "reviewer": decision.reviewer}
                   if reviewed and decision else None),
        "residual_score": reviewed.residual_score if reviewed else finding.score.value,
        "residual_severity": reviewed.residual_severity if reviewed else finding.score.severity,
        "residual_explanation": reviewed.residual_explanation if reviewed else "",
        "evidence": list(finding.evidence),
        "attack_path": list(finding.attack_path),
        "actor": finding.actor,
        "open_questions": list(finding.open_questions),
        "atlas": views.atlas_for(threat.id),
        "frameworks": list(threat.frameworks),
        "mitigations": views.mitigations_for(finding.mitigations, states, reviewed.checks if reviewed else ()),
    }


def _summary(findings: list[dict[str, Any]], open_questions: int) -> dict[str, Any]:
    by_threat: dict[str, int] = {}
    for finding in findings:
        by_threat[finding["threat"]] = by_threat.get(finding["threat"], 0) + 1
    is_open = [f["status"] in OPEN_STATUSES for f in findings]
    return {
        "findings": len(findings),
        "open": sum(is_open),
        "coverage": {s: {"total": sum(1 for f in findings if f["severity"] == s),
                         "resolved": sum(1 for f, o in zip(findings, is_open) if f["severity"] == s and not o)}
                     for s in SEVERITIES},
        "by_status": {status: sum(1 for f in findings if f["status"] == status) for status in STATUSES},
        "by_severity": {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITIES},
        "by_stride": {letter: sum(1 for f in findings if letter in f["stride"]) for letter in STRIDE_LETTERS},
        "by_threat": dict(sorted(by_threat.items())),
        "open_questions": open_questions,
        "verification": {state: sum(1 for f in findings for m in f["mitigations"] if m["verification"] == state)
                         for state in VERIFICATION_STATES},
    }


# an item on an element serves several findings; it shows the most worrying of their states
_CONCERN = {"verified": 0, "claimed": 1, "missing": 2, "stale": 3, "contradicted": 4}


def _checklist(assessment: Analysis, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mitigations to put in place, grouped by the component (or flow) they protect, each with
    the controls `threatmodel controls` generates for it there."""
    from threatmodel.controls.derive import controls_by_element

    catalog = assessment.catalog
    generated = controls_by_element(assessment)
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for finding in findings:
        items = groups.setdefault(finding["element"], {})
        for mitigation in finding["mitigations"]:
            item = items.setdefault(mitigation["id"], {
                "id": mitigation["id"], "title": mitigation["title"],
                "verify": catalog.mitigations[mitigation["id"]].verify,
                "owner": mitigation["owner"],
                "in_place": mitigation["in_place"], "state": mitigation["state"],
                "verification": mitigation["verification"], "verification_text": mitigation["verification_text"],
                "findings": [],
                "controls": generated.get(finding["element"], {}).get(mitigation["id"], []),
            })
            item["findings"].append(finding["id"])
            if _CONCERN[mitigation["verification"]] > _CONCERN[item["verification"]]:
                item["verification"], item["verification_text"] = mitigation["verification"], mitigation["verification_text"]
                item["in_place"] = item["in_place"] and mitigation["in_place"]
    return [
        {"element": element, "items": [dict(item, findings=sorted(item["findings"]))
                                       for _, item in sorted(items.items())]}
        for element, items in sorted(groups.items())
    ]


def _threats(assessment: Analysis, views: _ThreatViews, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each threat that raised a finding, once: its summary, ATLAS techniques and mitigations."""
    catalog = assessment.catalog
    raised = sorted({f["threat"] for f in findings})
    return [
        {"id": t, "title": catalog.threats[t].title, "summary": catalog.threats[t].summary,
         "stride": list(catalog.threats[t].stride), "atlas": views.atlas_for(t),
         "mitigations": [{"id": m, "title": catalog.mitigations[m].title, "what": catalog.mitigations[m].what,
                          "verify": catalog.mitigations[m].verify} for m in catalog.threats[t].mitigations]}
        for t in raised
    ]


def evidence_data(verdicts: Any) -> list[dict[str, Any]]:
    """The evidence files read, each with its tool, the mitigation it speaks to, its date and notes."""
    if verdicts is None:
        return []
    return [{"file": s.name, "tool": s.tool, "mitigation": s.mitigation, "date": s.date.isoformat(),
             "date_source": s.date_source, "about": list(s.scope[:50]), "notes": list(s.notes)}
            for s in verdicts.sources]


def _frameworks_cited(assessment: Analysis) -> list[str]:
    """The framework editions the findings cite, by name ("OWASP ML Top 10 2023"), in catalog order."""
    catalog = assessment.catalog
    cited = {entry for f in assessment.findings for entry in f.threat.frameworks}
    return [f"OWASP {framework.short}" for framework in catalog.frameworks.values()
            if any(e.id in cited for e in framework.entries)]


def report_data(assessment: Analysis, *, diagram_svg: str | None = None, diagram_note: str = "",
                review: ReviewResult | None = None, review_path: str = "", evidence: Any = None,
                plan: Any = None) -> dict[str, Any]:
    system = assessment.graph.system
    views = _ThreatViews(assessment)
    reviewed = {r.finding.id: r for r in review.findings} if review else {}
    findings = [finding_data(assessment, f, views, reviewed.get(f.id)) for f in assessment.findings]
    graph = graph_data(assessment.graph)
    # the diagrams mark the components with an open finding still high or critical after review
    # (a dict: sorted when iterated, and a template's `id in flagged` does not scan a list)
    graph["flagged"] = dict.fromkeys(sorted({f["element"] for f in findings if f["element_type"] == "component"
                                             and f["status"] in OPEN_STATUSES
                                             and f["residual_severity"] in ("high", "critical")}), True)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "frameworks_cited": _frameworks_cited(assessment),
        "review_file": review_path or None,
        "tool": {"name": "threatmodel", "version": __version__},
        "atlas_version": assessment.catalog.atlas.atlas_version,
        "system": {"name": system.info.name, "description": system.info.description,
                   "owner": system.info.owner, "version": system.info.version},
        "summary": _summary(findings, len(assessment.open_questions)),
        "actors": [actor_data(a, assessment.catalog) for a in assessment.actors],
        "zones": graph["boundaries"],
        "outside": graph["outside"],
        "graph": graph,
        "diagram_svg": diagram_svg,
        "diagram_note": diagram_note,
        "findings": findings,
        "open_questions": [question_data(q) for q in assessment.open_questions],
        "not_applicable": [
            {"threat": n.threat.id, "title": n.threat.name, "stride": list(n.threat.stride),
             "summary": n.threat.not_applicable, "reasons": list(n.reasons)}
            for n in assessment.not_applicable
        ],
        "excluded": [
            {"id": e.finding.id, "threat": e.finding.threat.id, "title": e.finding.threat.name,
             "element": e.finding.element, "severity": e.finding.score.severity, "reason": e.reason}
            for e in sorted(assessment.excluded, key=lambda e: e.finding.id)
        ],
        "checklist": _checklist(assessment, findings),
        "evidence": evidence_data(evidence),
        "plan": plan_data(plan, assessment.graph) if plan is not None else None,
        "evidence_max_age_days": evidence.max_age_days if evidence is not None else None,
        "threats": _threats(assessment, views, findings),
        "severities": list(SEVERITIES),
        "stride_letters": list(STRIDE_LETTERS),
        "stride_names": {c.letter: c.name for c in assessment.catalog.stride.categories},
    }


def plan_data(plan: Plan, graph: Any) -> dict[str, Any]:
    """The plan as report data (the JSON report's ``plan`` key). The attack trees are data (goal,
    elements, and per element the ways in and what stops it); the reports draw them in Mermaid."""

    def path_of(finding: "Finding") -> str:
        return " → ".join(finding.attack_path) if finding.attack_path else finding.element

    return {
        "targets": len(plan.targets),
        "cost": plan.cost,
        "residual_before": {"total": plan.residual_before, "high_or_critical": plan.high_before},
        "high_after": plan.high_after,
        "steps": [
            {"order": index, "mitigation": step.mitigation, "elements": step.elements, "owner": step.owner,
             "effort": step.effort, "control": step.control, "why": step.why, "moved": step.moved,
             "lowers": [{"finding": low.finding.id, "actor": low.finding.actor, "path": path_of(low.finding),
                         "before": low.before, "after": low.after, "severity": low.severity}
                        for low in step.lowers],
             "residual_after": {"total": step.residual_total, "high_or_critical": step.residual_high}}
            for index, step in enumerate(plan.steps, 1)
        ],
        "handled": [{"finding": t.finding.id, "path": path_of(t.finding), "by": t.handled_by,
                     "residual": t.reviewed.residual_score, "severity": t.reviewed.residual_severity}
                    for t in plan.handled],
        "decisions": [{"finding": d.finding.id, "residual": d.residual_score, "severity": d.residual_severity,
                       "reason": d.reason, "redesign": d.redesign} for d in plan.decisions],
        "trees": [{"goal": tree.threat, "title": tree.title,
                   "elements": [attack.element for attack in tree.attacks],
                   "attacks": [asdict(attack) for attack in tree.attacks]}
                  for tree in plan.trees],
        "more_goals": plan.more_goals,
    }


JSON_KEYS = ("schema_version", "tool", "atlas_version", "review_file", "system", "summary", "actors", "findings",
             "open_questions", "not_applicable", "excluded", "checklist", "evidence", "plan")


def actor_data(actor: Any, catalog: Any) -> dict[str, Any]:
    return {"id": actor.id, "name": actor.name, "kind": actor.kind, "title": catalog.actor_classes[actor.kind].title,
            "location": actor.location, "capabilities": list(actor.capabilities), "derived": actor.derived}


def question_data(question: Any) -> dict[str, Any]:
    return {"element": question.element, "attribute": question.attribute, "question": question.question,
            "affects": list(question.affects)}


def assessment_data(assessment: "Assessment", with_plan: bool = False, **options: Any) -> dict[str, Any]:
    """The plain report data of an assessment, which every renderer formats (docs/report-json.md);
    the fix plan (``plan``) only ``with_plan``, as only the full reports show it."""
    return report_data(assessment.analysis, review=assessment.review, review_path=assessment.review_display,
                       evidence=assessment.evidence, plan=assessment.plan if with_plan else None, **options)


def typed_report(assessment: "Assessment") -> "Report":
    """The report as a typed, validated model (the schema of ``report --format json``)."""
    from threatmodel.report.model import Report

    return Report.model_validate(json_report(assessment_data(assessment, with_plan=True)))


def json_report(data: dict[str, Any]) -> dict[str, Any]:
    """The documented JSON form: no diagram markup, no presentation helpers."""
    return {key: data[key] for key in JSON_KEYS}


__all__ = ["report_data", "assessment_data", "typed_report", "json_report", "finding_data"]
