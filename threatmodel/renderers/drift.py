"""`threatmodel drift` output: text, Markdown, JSON and SARIF (one result per drift item, at
the project file where it was seen, so code scanning shows it on the line that changed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from threatmodel.core.escape import terminal
from threatmodel.renderers.jsonout import to_json
from threatmodel.renderers.sarif import SARIF_SCHEMA, model_uri
from threatmodel.renderers.templates import render

if TYPE_CHECKING:
    from threatmodel.discover.drift import DriftReport

FORMATS = ("text", "md", "json", "sarif")
RULES = {
    "added": ("DRIFT-ADDED", "In the project, not in the model",
              "Something the project holds or does (a model file, notebook, dependency, hub model, pipeline step, "
              "service, registered model version, credential) is not in the threat model, so no threat is "
              "analysed for it."),
    "changed": ("DRIFT-CHANGED", "Changed since the model or its snapshot",
                "A declared artifact's bytes, format, loading or exposure differ from what the model says or what "
                "discover recorded; findings computed from the old facts may no longer hold."),
    "removed": ("DRIFT-REMOVED", "In the model, gone from the project",
                "A declared artifact or a recorded component is no longer in the project: the model describes a "
                "system that no longer exists."),
}


def _context(report: "DriftReport", threshold: str) -> dict[str, Any]:
    return {"report": report, "items": report.items, "failing": report.failing(threshold), "threshold": threshold,
            "counts": {c: report.count(c) for c in RULES}}


def _uri(report: "DriftReport", where: str) -> tuple[str, int]:
    file, _, rest = where.partition(":")
    if not where or where.startswith("--") or " (" in file:
        file = file.split(" (")[0] if " (" in file else ""
    line = int(rest.split(":")[0]) if rest.split(":")[0].isdigit() else 0
    if not file:
        return model_uri(report.model), 0
    return model_uri(str(Path(report.project) / file)), line


def drift_sarif(report: "DriftReport") -> dict[str, Any]:
    from threatmodel._version import __version__

    order = list(RULES)
    rules = [{"id": rule_id, "name": title.title().replace(" ", "").replace(",", ""),
              "shortDescription": {"text": title}, "fullDescription": {"text": text},
              "help": {"text": text, "markdown": text},
              "properties": {"tags": ["security", "threat-model", "drift"], "precision": "high"}}
             for rule_id, title, text in RULES.values()]
    results = []
    for item in report.items:
        uri, line = _uri(report, item.where)
        rule_id = RULES[item.category][0]
        results.append({
            "ruleId": rule_id, "ruleIndex": order.index(item.category),
            "level": "error" if item.security else "warning",
            "message": {"text": terminal(f"{item.subject}: {item.message}"
                                         + (f" (component {item.component})" if item.component else ""))},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                "region": {"startLine": max(line, 1)}}}],
            "partialFingerprints": {"threatmodelDrift/v1": f"{item.category}:{item.subject}:{item.component}"},
            "properties": {"category": item.category, "component": item.component, "security": item.security},
        })
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "threatmodel", "version": __version__, "rules": rules}},
        "results": results}]}


def render_drift(report: "DriftReport", format_name: str, threshold: str) -> str:
    if format_name == "json":
        return to_json({**report.to_dict(), "threshold": threshold, "failing": len(report.failing(threshold))})
    if format_name == "sarif":
        return to_json(drift_sarif(report))
    template = "drift.md.j2" if format_name == "md" else "drift.txt.j2"
    return render(template, _context(report, threshold))

