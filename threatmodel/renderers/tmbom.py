"""Export as a TM-BOM (OWASP Threat Model Library schema v1.0.2), which Threat Dragon reads.

Boundaries become trust zones (plus an ``internet`` zone for what sits outside every boundary:
the format wants a zone on every element), crossings of zones become trust boundaries, people
and outside services actors, processes components, stores data stores, data assets data sets,
flows data flows, findings threats with one persona per actor class, and each finding's fitting
mitigations controls with their state. What TM-BOM has no field for — kinds, our ids, attributes,
protocols, STRIDE letters, review statuses — goes under ``extensions`` (threatmodel.dev/…), which
``threatmodel import tmbom`` reads back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from threatmodel.renderers.jsonout import to_json
from threatmodel.renderers.registry import RenderOptions
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment

SCHEMA_URI = "https://github.com/OWASP/www-project-threat-model-library/blob/v1.0.2/threat-model.schema.json"
EXTENSION = "threatmodel.dev/model/v1"
OUTSIDE_ZONE = "internet"
ACTOR_TYPES = {"anonymous": "user", "customer": "user", "operator": "engineer", "insider": "engineer",
               "supplier": "third_party", "dependency": "third_party"}
PERSONAS = {  # actor class -> (skill, access, person?)
    "anonymous": ("script_kid", "anonymous", True), "customer": ("script_kid", "user", True),
    "operator": ("engineer", "admin", True), "insider": ("insider", "admin", True),
    "supplier": ("expert_engineer", "user", False), "dependency": ("expert_engineer", "admin", False),
}
REVIEW_STATES = ("implemented", "partial", "planned", "not-applicable")  # what a review file records
CONTROL_STATUS = {"declared": "active", "implemented": "active", "planned": "scheduled", "": "suggested"}
PRIORITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}
SENSITIVITY = {"high": "biz"}


def symbolic(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-") or "x"


def tmbom_document(assessment: "Assessment") -> dict[str, Any]:
    system = assessment.system.system
    graph = assessment.graph
    data = assessment_data(assessment)
    names: dict[str, str] = {}
    used: set[str] = set()

    def name(our_id: str) -> str:
        if our_id not in names:
            base, candidate, number = symbolic(our_id), symbolic(our_id), 2
            while candidate in used:
                candidate, number = f"{base}-{number}", number + 1
            used.add(candidate)
            names[our_id] = candidate
        return names[our_id]

    def zone(component: Any) -> str:
        return name(component.boundary) if component.boundary else OUTSIDE_ZONE

    used.add(OUTSIDE_ZONE)
    zones = [{"symbolic_name": name(b.id), "title": b.label, "description": b.description or f"{b.trust} trust"}
             for b in sorted(system.boundaries, key=lambda b: b.id)]
    if any(c.boundary is None for c in system.components):
        zones.insert(0, {"symbolic_name": OUTSIDE_ZONE, "title": "Outside every boundary",
                         "description": "The internet: anything outside the system's trust boundaries."})
    actor_class = {a.id: a.kind for a in assessment.analysis.actors}
    actors, components, stores, kinds = [], [], [], {}
    for component in sorted(system.components, key=lambda c: c.id):
        entry = {"symbolic_name": name(component.id), "title": component.label,
                 "description": component.description or component.kind, "trust_zone": zone(component)}
        kinds[entry["symbolic_name"]] = {"id": component.id, "kind": component.kind,
                                         **{k: v for k, v in component.model_dump(exclude_none=True).items()
                                            if k not in ("id", "kind", "name", "description", "boundary", "tags")
                                            and v not in ([], "")}}
        dfd = graph.dfd(component.id)
        if dfd == "external-entity":
            actors.append({**entry, "type": ACTOR_TYPES.get(actor_class.get(component.id, ""), "third_party")})
        elif dfd == "data-store":
            stores.append({**entry, "type": "object"})
        else:
            components.append(entry)
    element_type = {c["symbolic_name"]: kind for group, kind in ((actors, "actor"), (components, "component"),
                                                                  (stores, "data_store")) for c in group}
    crossings = sorted({tuple(sorted((zone(system.component(f.source)), zone(system.component(f.target)))))
                        for f in system.flows} - {(z, z) for z in [OUTSIDE_ZONE, *names.values()]})
    sensitive = {d.id for d in system.data if d.pii or d.confidentiality == "high"}
    flows, flow_extensions = [], {}
    for flow in sorted(system.flows, key=lambda f: f.key):
        source, target = name(flow.source), name(flow.target)
        flows.append({"symbolic_name": name(flow.key), "title": flow.label, "description": flow.description or flow.label,
                      "source": {"type": element_type[source], "object": source},
                      "destination": {"type": element_type[target], "object": target},
                      "has_sensitive_data": bool(set(flow.data) & sensitive),
                      "encrypted": graph.flow_value(flow.key, "encrypted")[0] is True})
        # false is an answer (encrypted: false raises findings), so only what is unsaid is left out
        flow_extensions[name(flow.key)] = {k: v for k, v in (("id", flow.key), ("protocol", flow.protocol),
                                                             ("encrypted", flow.encrypted), ("authenticated", flow.authenticated),
                                                             ("bidirectional", flow.bidirectional or None),
                                                             ("data", list(flow.data)), ("description", flow.description))
                                           if v is not None and v != "" and v != []}
    data_sets = []
    for asset in sorted(system.data, key=lambda d: d.id):
        holders = [c.id for c in system.components if asset.id in c.data and graph.dfd(c.id) == "data-store"]
        data_sets.append({"symbolic_name": name(asset.id), "title": asset.label, "description": asset.description or asset.label,
                          "placements": [{"data_store": name(h), "encrypted": False} for h in holders],
                          "data_sensitivity": ["pii"] if asset.pii else (["biz"] if asset.confidentiality == "high" else [])})
    used_classes = sorted({actor_class.get(f["actor"], "anonymous") for f in data["findings"] if f["actor"]} | {"anonymous"})
    personas = [{"symbolic_name": f"persona-{c}", "title": f"{c} actor", "description": f"threatmodel actor class {c}",
                 "is_person": PERSONAS[c][2], "skill_level": PERSONAS[c][0], "access_level": PERSONAS[c][1],
                 "malicious_intent": True, "applicability_to_org": "moderate"} for c in used_classes]
    threats, controls, statuses = [], [], {}
    for finding in data["findings"]:
        symbol = name(finding["id"])
        persona = f"persona-{actor_class.get(finding['actor'], 'anonymous')}" if finding["actor"] else "persona-anonymous"
        threats.append({"symbolic_name": symbol, "title": f"{finding['title']} on {finding['element']}",
                        "description": "; ".join(finding["evidence"]), "components_affected": [name(finding["element"])],
                        "threat_persona": persona,
                        "event": " → ".join(finding["attack_path"]) or finding["threat_title"], "sources": ["adversary"]})
        statuses[symbol] = {"finding": finding["id"], "status": finding["status"], "stride": finding["stride"],
                            "severity": finding["severity"], "score": finding["score"],
                            **({"justification": finding["review"]["justification"]}
                               if (finding.get("review") or {}).get("justification") else {}),
                            **({"mitigations": states} if (states := {m["id"]: m["state"] for m in finding["mitigations"]
                                                                       if m["state"] in REVIEW_STATES}) else {})}
        for mitigation in finding["mitigations"]:
            controls.append({"symbolic_name": name(f"{mitigation['id']}@{finding['id']}"), "title": mitigation["title"],
                             "description": f"{mitigation['id']} for {finding['id']}", "threats": [symbol],
                             "status": CONTROL_STATUS[mitigation["state"]], "priority": PRIORITY[finding["severity"]]})
    outsiders = assessment.catalog.catalog.outsider_classes()
    has_public = any(a.kind in outsiders for a in assessment.analysis.actors)
    return {
        "$schema": SCHEMA_URI,
        "version": "1.0",
        "scope": {"title": system.info.name, "description": system.info.description or system.info.name,
                  "business_criticality": "moderate", "data_sensitivity": ["pii"] if any(d.pii for d in system.data) else [],
                  "exposure": "external" if has_public else "internal", "tier": "important"},
        "trust_zones": zones,
        "trust_boundaries": [{"trust_zone_a": a, "trust_zone_b": b} for a, b in crossings],
        "actors": actors, "components": components, "data_stores": stores, "data_sets": data_sets,
        "data_flows": flows, "threat_personas": personas, "threats": threats, "controls": controls,
        "extensions": {EXTENSION: {
            "trust": {name(b.id): {"id": b.id, "trust": b.trust, **({"parent": b.parent} if b.parent else {})}
                      for b in system.boundaries},
            "elements": kinds, "flows": flow_extensions,
            "data": {name(d.id): {"id": d.id, "confidentiality": d.confidentiality, "integrity": d.integrity,
                                  "availability": d.availability, "pii": d.pii} for d in system.data},
            "findings": statuses,
        }},
    }


def render_tmbom(assessment: "Assessment", options: RenderOptions) -> str:
    return to_json(tmbom_document(assessment))
