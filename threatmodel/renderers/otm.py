"""Export as an Open Threat Model (OTM 0.2.0) document.

Boundaries become trust zones (with a trust rating from the trust level; components outside
every boundary go into one "outside every boundary" zone, as OTM requires a parent), components
keep their kind in a ``threatmodel-kind:`` tag and their attributes, flows their protocol and
protection, data assets their ratings on OTM's 0-100 scale; each finding is a threat instance on
its element with its status, and the mitigations that fit it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from .jsonout import to_json
from .registry import RenderOptions

if TYPE_CHECKING:
    from ..assessment import Assessment

TRUST_RATING = {"internet": 10, "partner": 40, "internal": 70, "restricted": 95}
RATING = {"low": 20, "medium": 50, "high": 90}
OUTSIDE_ZONE = "outside-every-boundary"
STATE = {"open": "exposed", "in-progress": "exposed", "mitigated": "mitigated", "accepted": "accepted",
         "false-positive": "not-applicable", "not-applicable": "not-applicable"}
ATTRIBUTES = ("authenticated", "rate_limiting", "returns_scores", "retrains_on_feedback", "signed",
              "integrity_check", "audit_logging", "origin", "exposure", "format", "technology")


def otm_document(assessment: "Assessment") -> dict[str, Any]:
    system = assessment.system.system
    data = assessment.report_data()
    stride = data["stride_names"]
    by_element: dict[str, list[dict[str, Any]]] = {}
    for finding in data["findings"]:
        by_element.setdefault(finding["element"], []).append(finding)

    def instances(element: str) -> list[dict[str, Any]]:
        return [{"threat": f["threat"], "state": STATE[f["status"]],
                 "mitigations": [{"mitigation": m["id"], "state": "implemented" if m["in_place"] else "required"}
                                 for m in f["mitigations"]]}
                for f in sorted(by_element.get(element, []), key=lambda f: f["id"])]

    zones = [{"id": b.id, "name": b.label, "type": b.trust, "description": b.description,
              "risk": {"trustRating": TRUST_RATING[b.trust]},
              **({"parent": {"trustZone": b.parent}} if b.parent else {})}
             for b in sorted(system.boundaries, key=lambda b: b.id)]
    if any(c.boundary is None for c in system.components):
        zones.insert(0, {"id": OUTSIDE_ZONE, "name": "Outside every boundary (internet)", "type": "internet",
                         "risk": {"trustRating": TRUST_RATING["internet"]}})
    components = []
    for component in sorted(system.components, key=lambda c: c.id):
        attributes = {name: getattr(component, name) for name in ATTRIBUTES if getattr(component, name) not in (None, "")}
        entry: dict[str, Any] = {
            "id": component.id, "name": component.label, "type": component.kind,
            "description": component.description,
            "parent": {"trustZone": component.boundary or OUTSIDE_ZONE},
            "tags": [f"threatmodel-kind:{component.kind}"],
        }
        if component.data:
            entry["assets"] = {"processed": [], "stored": list(component.data)}
        if attributes:
            entry["attributes"] = attributes
        threats = instances(component.id)
        if threats:
            entry["threats"] = threats
        components.append(entry)
    flows = []
    for flow in sorted(system.flows, key=lambda f: f.key):
        attributes = {k: v for k, v in (("protocol", flow.protocol), ("encrypted", flow.encrypted),
                                        ("authenticated", flow.authenticated)) if v not in (None, "")}
        entry = {"id": flow.key, "name": flow.label, "description": flow.description, "source": flow.source,
                 "destination": flow.target, "bidirectional": flow.bidirectional}
        if flow.data:
            entry["assets"] = list(flow.data)
        if attributes:
            entry["attributes"] = attributes
        threats = instances(flow.key)
        if threats:
            entry["threats"] = threats
        flows.append(entry)
    raised = sorted({f["threat"] for f in data["findings"]})
    catalog = assessment.catalog.catalog
    threats = [{"id": t, "name": catalog.threats[t].title, "description": catalog.threats[t].summary,
                "categories": [stride[letter] for letter in catalog.threats[t].stride],
                "risk": {"likelihood": 20 * max(f["likelihood"] for f in data["findings"] if f["threat"] == t),
                         "impact": 20 * max(f["impact"] for f in data["findings"] if f["threat"] == t)}}
               for t in raised]
    mitigation_ids = sorted({m["id"] for f in data["findings"] for m in f["mitigations"]})
    return {
        "otmVersion": "0.2.0",
        "project": {"name": system.info.name, "id": "threatmodel-" + _slug(system.info.name),
                    "description": system.info.description, "owner": system.info.owner,
                    "attributes": {"generator": f"threatmodel {__version__}"}},
        "assets": [{"id": d.id, "name": d.label, "description": d.description,
                    "risk": {"confidentiality": RATING["high" if d.pii else d.confidentiality],
                             "integrity": RATING[d.integrity], "availability": RATING[d.availability]}}
                   for d in sorted(system.data, key=lambda d: d.id)],
        "trustZones": zones,
        "components": components,
        "dataflows": flows,
        "threats": threats,
        "mitigations": [{"id": m, "name": catalog.mitigations[m].title, "description": catalog.mitigations[m].what,
                         "riskReduction": 50} for m in mitigation_ids],
    }


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "model"


def render_otm(assessment: "Assessment", options: RenderOptions) -> str:
    return to_json(otm_document(assessment))
