"""Import an Open Threat Model (OTM 0.1/0.2, IriusRisk, StartLeft, threatcl) file.

Trust zones become boundaries (trust from ``trustRating``); the internet zone (by IriusRisk's zone
type, its name, or the zone our own export writes) puts its components outside every boundary, components keep
the kind our export wrote in their tags or get one guessed from their OTM type, dataflows become
flows, assets data assets, and threat instances foreign threats with their state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Diagnostic, InputError, Location
from ..loader import YamlMap, load_mapping, locate
from .draft import Draft, Entity, IdMaker, SourceThreat, status_of, stride_letters

KIND_TAG = "threatmodel-kind:"
OUTSIDE_ZONE = "outside-every-boundary"
INTERNET_ZONE_TYPES = {"f0ba7722-39b6-4c81-8290-a30a248bb8d9"}  # IriusRisk's "Internet" trust zone


def _is_internet(zone: dict[str, Any]) -> bool:
    return (str(zone.get("id")) == OUTSIDE_ZONE or str(zone.get("type")) in INTERNET_ZONE_TYPES
            or "internet" in str(zone.get("name", "")).lower())


def _trust(rating: Any) -> tuple[str, str]:
    if not isinstance(rating, (int, float)):
        return "internal", "no trustRating: taken as internal"
    if rating < 25:
        return "internal", (f"trustRating {rating} is as low as the internet's, but the zone is not the "
                            "internet (some exporters rate every zone alike): taken as internal")
    level = "partner" if rating < 50 else "internal" if rating < 85 else "restricted"
    return level, f"from trustRating {rating}"


def _types() -> dict[str, Any]:
    """The type table (catalog/interop/otm.yaml): knowledge, kept as data."""
    from ..resources import catalog_dir

    return load_mapping(catalog_dir() / "interop" / "otm.yaml", "catalog/interop/otm.yaml")


def _kind(otm_type: str, table: dict[str, Any]) -> tuple[str, str]:
    if otm_type in table["component_types"]:
        return str(table["component_types"][otm_type]), f"guessed from OTM type \"{otm_type}\""
    for word in otm_type.lower().replace("_", "-").split("-"):
        if word in table["words"]:
            return str(table["words"][word]), f"guessed from the word '{word}' of OTM type \"{otm_type}\""
    return str(table["fallback"]), f"OTM type \"{otm_type}\" is not in our table: taken as the fallback kind"


def _list(document: YamlMap, key: str, name: str, problems: list[Diagnostic]) -> list[Any]:
    value = document.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Diagnostic(locate(document, (key,)) or Location(name, 1, 1), f"'{key}' must be a list"))
        return []
    return [item for item in value if isinstance(item, dict)]


def import_otm(path: Path) -> Draft:
    name = str(path)
    document = load_mapping(path, name)
    problems: list[Diagnostic] = []
    project = document.get("project")
    if not isinstance(project, dict) or "otmVersion" not in document:
        raise InputError([Diagnostic(Location(name, 1, 1), "not an OTM file: 'otmVersion' and 'project' are required")])
    table = _types()
    draft = Draft("otm", name, {"name": str(project.get("name") or "Imported from OTM"),
                                "description": str(project.get("description") or "")})
    ids = IdMaker()
    zones: dict[str, str | None] = {}  # OTM zone id -> our boundary id (None: outside)
    for zone in _list(document, "trustZones", name, problems):
        zone_id = str(zone.get("id", ""))
        rating = (zone.get("risk") or {}).get("trustRating") if isinstance(zone.get("risk"), dict) else None
        if _is_internet(zone):
            zones[zone_id] = None
            continue
        trust, why = _trust(rating)
        ours = ids.make(zone_id, str(zone.get("name", "")), "zone")
        zones[zone_id] = ours
        parent = zone.get("parent", {})
        entity = Entity({"id": ours, "name": str(zone.get("name") or ours), "trust": trust}, {"trust": why})
        if isinstance(parent, dict) and parent.get("trustZone"):
            entity.values["parent"] = str(parent["trustZone"])  # resolved below
        if zone.get("description"):
            entity.values["description"] = str(zone["description"])
        draft.boundaries.append(entity)
    for boundary in draft.boundaries:
        if "parent" in boundary.values:
            parent = zones.get(boundary.values["parent"])
            if parent is None:
                del boundary.values["parent"]
            else:
                boundary.values["parent"] = parent
    asset_ids: dict[str, str] = {}
    for asset in _list(document, "assets", name, problems):
        risk = asset.get("risk") if isinstance(asset.get("risk"), dict) else {}
        asset_ids[str(asset.get("id", ""))] = ids.make(str(asset.get("id", "")), str(asset.get("name", "")), "asset")
        values: dict[str, Any] = {"id": asset_ids[str(asset.get("id", ""))], "name": str(asset.get("name") or "")}
        notes = {}
        for key in ("confidentiality", "integrity", "availability"):
            if isinstance(risk.get(key), (int, float)):
                values[key] = "high" if risk[key] >= 67 else "medium" if risk[key] >= 34 else "low"
                notes[key] = f"from {key} {risk[key]} on OTM's 0-100 scale"
        draft.data.append(Entity(values, notes))
    component_ids: dict[str, str] = {}
    raw_components = _list(document, "components", name, problems)
    for index, component in enumerate(raw_components):
        source_id = str(component.get("id", ""))
        ours = ids.make(source_id, str(component.get("name", "")), "component")
        component_ids[source_id] = ours
    for index, component in enumerate(raw_components):
        source_id = str(component.get("id", ""))
        tags = [str(t) for t in component.get("tags") or [] if isinstance(t, (str, int))]
        kind_tag = next((t[len(KIND_TAG):] for t in tags if t.startswith(KIND_TAG)), None)
        otm_type = str(component.get("type", ""))
        entity = Entity({"id": component_ids[source_id], "name": str(component.get("name") or source_id)})
        if kind_tag:
            entity.values["kind"] = kind_tag
        else:
            entity.values["kind"], entity.notes["kind"] = _kind(otm_type, table)
        parent = component.get("parent") or {}
        if isinstance(parent, dict):
            if parent.get("trustZone") is not None:
                zone = zones.get(str(parent["trustZone"]), "missing")
                if zone == "missing":
                    problems.append(Diagnostic(locate(document, ("components", index, "parent", "trustZone"))
                                               or Location(name), f"unknown trust zone '{parent['trustZone']}'"))
                elif zone is not None:
                    entity.values["boundary"] = zone
            elif parent.get("component") is not None:
                draft.lost.append(f"component {entity.id} is hosted in component {parent['component']}: "
                                  "hosting is not part of our model; it keeps no boundary")
        if component.get("description"):
            entity.values["description"] = str(component["description"])
        attributes = component.get("attributes") if isinstance(component.get("attributes"), dict) else {}
        for key in ("authenticated", "rate_limiting", "returns_scores", "signed", "integrity_check", "audit_logging"):
            if isinstance(attributes.get(key), bool):
                entity.values[key] = attributes[key]
        for key in ("exposure", "origin", "format", "technology"):
            if isinstance(attributes.get(key), str):
                entity.values[key] = attributes[key]
        assets = component.get("assets") if isinstance(component.get("assets"), dict) else {}
        stored = [asset_ids[str(a)] for a in (assets.get("stored") or []) if str(a) in asset_ids]
        if stored:
            entity.values["data"] = stored
        draft.components.append(entity)
        _instances(draft, document, component, entity.id, name)
    for index, flow in enumerate(_list(document, "dataflows", name, problems)):
        source, target = str(flow.get("source", "")), str(flow.get("destination", ""))
        for end, key in ((source, "source"), (target, "destination")):
            if end not in component_ids:
                problems.append(Diagnostic(locate(document, ("dataflows", index, key)) or Location(name),
                                           f"dataflow '{flow.get('id')}' names unknown component '{end}'"))
        if source not in component_ids or target not in component_ids:
            continue
        ours = ids.make(str(flow.get("id", "")), str(flow.get("name", "")), "flow")
        entity = Entity({"id": ours, "from": component_ids[source], "to": component_ids[target],
                         "name": str(flow.get("name") or "")})
        if flow.get("bidirectional") is True:
            entity.values["bidirectional"] = True
        attributes = flow.get("attributes") if isinstance(flow.get("attributes"), dict) else {}
        if isinstance(attributes.get("protocol"), str):
            entity.values["protocol"] = attributes["protocol"]
        for key in ("encrypted", "authenticated"):
            if isinstance(attributes.get(key), bool):
                entity.values[key] = attributes[key]
        carried = [asset_ids[str(a)] for a in (flow.get("assets") or []) if str(a) in asset_ids]
        if carried:
            entity.values["data"] = carried
        draft.flows.append(entity)
        _instances(draft, document, flow, ours, name)
    if problems:
        raise InputError(sorted(problems))
    if document.get("representations"):
        draft.lost.append("representations (diagram positions) are not kept")
    return draft


def _instances(draft: Draft, document: YamlMap, element: dict[str, Any], ours: str, name: str) -> None:
    catalogue = {str(t.get("id")): t for t in document.get("threats") or [] if isinstance(t, dict)}
    mitigations = {str(m.get("id")): m for m in document.get("mitigations") or [] if isinstance(m, dict)}
    for instance in element.get("threats") or []:
        if not isinstance(instance, dict):
            continue
        threat = catalogue.get(str(instance.get("threat")), {})
        title = str(threat.get("name") or instance.get("threat"))
        status = status_of(instance.get("state"))
        if status is None:
            draft.lost.append(f"threat '{title}' on {ours}: unknown state '{instance.get('state')}', taken as open")
            status = "open"
        notes = [str(mitigations.get(str(m.get("mitigation")), {}).get("name") or m.get("mitigation"))
                 for m in instance.get("mitigations") or [] if isinstance(m, dict)]
        draft.threats.append(SourceThreat(ours, title, stride_letters(threat.get("categories") or []), status,
                                          "; ".join(notes), str(instance.get("threat"))))
