"""Export as an Open Threat Model (OTM 0.2.0) document.

Boundaries become trust zones (with a trust rating from the trust level; components outside
every boundary go into one "outside every boundary" zone, as OTM requires a parent), components
keep their kind in a ``threatmodel-kind:`` tag and their attributes, flows their protocol and
protection, data assets their ratings on OTM's 0-100 scale; each finding is a threat instance on
its element with its status, and the mitigations that fit it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threatmodel._version import __version__
from threatmodel.renderers.jsonout import to_json
from threatmodel.renderers.registry import RenderOptions
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment

REVIEW_STATES = ("implemented", "partial", "planned", "not-applicable")  # what a review file records
TRUST_RATING = {"internet": 10, "partner": 40, "internal": 70, "restricted": 95}
RATING = {"low": 20, "medium": 50, "high": 90}
OUTSIDE_ZONE = "outside-every-boundary"
STATE = {"open": "exposed", "in-progress": "exposed", "mitigated": "mitigated", "accepted": "accepted",
         "false-positive": "not-applicable", "not-applicable": "not-applicable"}
# what a component is besides these is an attribute, exported as it is written in the model
STRUCTURE = {"id", "kind", "name", "boundary", "description", "data"}
CELL = {"width": 160, "height": 80}  # one element in the drawing
GAP = 40


def _attributes(component: Any) -> dict[str, Any]:
    values = component.model_dump(exclude_none=True, by_alias=True, exclude=STRUCTURE)
    return {k: v for k, v in values.items() if v not in ("", [], {})}


def _representations(system: Any, zones: list[dict[str, Any]], components: list[dict[str, Any]],
                     dfd: dict[str, str]) -> list[dict[str, Any]]:
    """One diagram, so that tools which draw an OTM file (Threat Dragon) can open it: each zone a
    box of its components in rows of four and its nested zones below them, top-level zones side by
    side; positions relative to the parent zone, as OTM says. The representation id of an element
    says its shape (``…-database`` a store, ``…-service`` a process) for tools that guess it from
    there."""
    diagram = "threatmodel-diagram"
    children: dict[str | None, list[dict[str, Any]]] = {}
    for zone in zones:
        children.setdefault((zone.get("parent") or {}).get("trustZone"), []).append(zone)
    members: dict[str, list[dict[str, Any]]] = {}
    for component in components:
        members.setdefault(component["parent"]["trustZone"], []).append(component)
    shapes = {c.id: c.kind for c in system.components}
    size: dict[str, tuple[int, int]] = {}

    def measure(zone_id: str) -> tuple[int, int]:
        count = len(members.get(zone_id, []))
        columns = min(max(count, 1), 4)
        width = GAP + columns * (CELL["width"] + GAP)
        height = GAP + ((count + 3) // 4) * (CELL["height"] + GAP) if count else GAP + CELL["height"]
        for child in children.get(zone_id, []):
            child_width, child_height = measure(child["id"])
            width = max(width, child_width + 2 * GAP)
            height += child_height + GAP
        size[zone_id] = (width, height)
        return width, height

    def place(zone: dict[str, Any], x: int, y: int) -> None:
        width, height = size[zone["id"]]
        zone["representations"] = [{"representation": diagram, "id": f"{zone['id']}-zone",
                                    "position": {"x": x, "y": y}, "size": {"width": width, "height": height}}]
        for index, component in enumerate(members.get(zone["id"], [])):
            shape = dfd.get(shapes.get(component["id"], ""), "")
            suffix = "database" if shape == "data-store" else "service" if shape == "process" else "actor"
            component["representations"] = [{
                "representation": diagram, "id": f"{component['id']}-{suffix}",
                "position": {"x": GAP + (index % 4) * (CELL["width"] + GAP), "y": GAP + (index // 4) * (CELL["height"] + GAP)},
                "size": dict(CELL)}]
        count = len(members.get(zone["id"], []))
        below = GAP + (((count + 3) // 4) * (CELL["height"] + GAP) if count else CELL["height"])
        for child in children.get(zone["id"], []):
            place(child, GAP, below)
            below += size[child["id"]][1] + GAP

    x = 0
    for zone in children.get(None, []):
        measure(zone["id"])
        place(zone, x, 0)
        x += size[zone["id"]][0] + GAP
    return [{"name": system.info.name or "Data flow", "id": diagram, "type": "diagram",
             "description": "Drawn by threatmodel: one box per trust zone, its elements inside",
             "size": {"width": max(x, CELL["width"]), "height": max([size[z["id"]][1] for z in children.get(None, [])] or [0])}}]



def otm_document(assessment: "Assessment") -> dict[str, Any]:
    system = assessment.system.system
    data = assessment_data(assessment)
    stride = data["stride_names"]
    by_element: dict[str, list[dict[str, Any]]] = {}
    for finding in data["findings"]:
        by_element.setdefault(finding["element"], []).append(finding)

    def instances(element: str) -> list[dict[str, Any]]:
        return [{"threat": f["threat"], "state": STATE[f["status"]],
                 "mitigations": [{"mitigation": m["id"], "state": m["state"] if m["state"] in REVIEW_STATES
                                  else "implemented" if m["in_place"] else "required"} for m in f["mitigations"]],
                 # our own status and the reviewer's words, which OTM's states cannot carry
                 **({"attributes": {"threatmodel-status": f["status"],
                                    **({"justification": f["review"]["justification"]}
                                       if (f.get("review") or {}).get("justification") else {})}}
                    if f["status"] != "open" or f.get("review") else {})}
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
        attributes = _attributes(component)
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
        if flow.id:
            attributes["threatmodel-id"] = flow.id
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
    representations = _representations(system, zones, components, {k.id: k.dfd for k in catalog.kinds.values()})
    return {
        "otmVersion": "0.2.0",
        "project": {"name": system.info.name, "id": "threatmodel-" + _slug(system.info.name),
                    "description": system.info.description, "owner": system.info.owner,
                    "attributes": {"generator": f"threatmodel {__version__}"}},
        "assets": [{"id": d.id, "name": d.label, "description": d.description,
                    "risk": {"confidentiality": RATING["high" if d.pii else d.confidentiality],
                             "integrity": RATING[d.integrity], "availability": RATING[d.availability]},
                    **({"attributes": {"pii": True, "confidentiality": d.confidentiality}} if d.pii else {})}
                   for d in sorted(system.data, key=lambda d: d.id)],
        "representations": representations,
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
