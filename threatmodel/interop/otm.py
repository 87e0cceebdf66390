"""Import an Open Threat Model (OTM 0.1/0.2, IriusRisk, StartLeft, threatcl) file.

Trust zones become boundaries (trust from ``trustRating``); the internet zone (by IriusRisk's zone
type, its name, or the zone our own export writes) puts its components outside every boundary, components keep
the kind our export wrote in their tags or get one guessed from their OTM type, dataflows become
flows, assets data assets, and threat instances foreign threats with their state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import load_mapping, locate
from threatmodel.system.draft import (REVIEW_STATES, Draft, Entity, IdMaker, SourceThreat, interop_table, is_internet, list_dangling,
                    status_of, stride_letters)
from threatmodel.interop.foreign import Foreign, ListOf, MapOf, OptText, Text, check, duplicates, raise_if

KIND_TAG = "threatmodel-kind:"
OUTSIDE_ZONE = "outside-every-boundary"
INTERNET_ZONE_TYPES = {"f0ba7722-39b6-4c81-8290-a30a248bb8d9", "internet"}  # IriusRisk's "Internet" zone, ours
STRUCTURE = {"id", "kind", "name", "boundary", "description", "data"}


class Risk(Foreign):
    trustRating: Optional[float] = None


class Parent(Foreign):
    trustZone: OptText = None
    component: OptText = None


class Zone(Foreign):
    id: Text
    name: OptText = None
    type: OptText = None
    description: OptText = None
    risk: Optional[Risk] = None
    parent: Optional[Parent] = None


class AssetRisk(Foreign):
    confidentiality: Optional[float] = None
    integrity: Optional[float] = None
    availability: Optional[float] = None


class Asset(Foreign):
    id: Text
    name: OptText = None
    description: OptText = None
    risk: Optional[AssetRisk] = None
    attributes: MapOf(Any) = {}


class InstanceMitigation(Foreign):
    mitigation: OptText = None
    state: OptText = None


class Instance(Foreign):
    threat: Text
    state: OptText = None
    mitigations: ListOf(InstanceMitigation) = []
    attributes: MapOf(Any) = {}


class AssetUse(Foreign):
    processed: ListOf(Text) = []
    stored: ListOf(Text) = []


class Component(Foreign):
    id: Text
    name: OptText = None
    type: OptText = None
    description: OptText = None
    parent: Optional[Parent] = None
    tags: ListOf(Text) = []
    attributes: MapOf(Any) = {}
    assets: Optional[AssetUse] = None
    threats: ListOf(Instance) = []


class Dataflow(Foreign):
    id: Text
    name: OptText = None
    description: OptText = None
    source: Text
    destination: Text
    bidirectional: Optional[bool] = None
    assets: ListOf(Text) = []
    tags: ListOf(Text) = []
    attributes: MapOf(Any) = {}
    threats: ListOf(Instance) = []


class Threat(Foreign):
    id: Text
    name: OptText = None
    description: OptText = None
    categories: ListOf(Text) = []
    cwes: ListOf(Text) = []


class Mitigation(Foreign):
    id: Text
    name: OptText = None


class Project(Foreign):
    name: OptText = None
    id: OptText = None
    description: OptText = None
    owner: OptText = None
    attributes: MapOf(Any) = {}


class Representation(Foreign):
    name: OptText = None


class Otm(Foreign):
    otmVersion: Text
    project: Project
    representations: ListOf(Representation) = []
    trustZones: ListOf(Zone) = []
    assets: ListOf(Asset) = []
    components: ListOf(Component) = []
    dataflows: ListOf(Dataflow) = []
    threats: ListOf(Threat) = []
    mitigations: ListOf(Mitigation) = []


def _is_internet(zone: Zone) -> bool:
    return zone.id == OUTSIDE_ZONE or (zone.type or "") in INTERNET_ZONE_TYPES or is_internet(zone.name or "")


def _trust(rating: Any) -> tuple[str, str]:
    if not isinstance(rating, (int, float)):
        return "internal", "no trustRating: taken as internal"
    if rating < 25:
        return "internal", (f"trustRating {rating} is as low as the internet's, but the zone is not the "
                            "internet (some exporters rate every zone alike): taken as internal")
    level = "partner" if rating < 50 else "internal" if rating < 85 else "restricted"
    return level, f"from trustRating {rating}"


def _kind(otm_type: str, table: dict[str, Any]) -> tuple[str, str]:
    if otm_type in table["component_types"]:
        return str(table["component_types"][otm_type]), f"guessed from OTM type \"{otm_type}\""
    for word in otm_type.lower().replace("_", "-").split("-"):
        if word in table["words"]:
            return str(table["words"][word]), f"guessed from the word '{word}' of OTM type \"{otm_type}\""
    return str(table["fallback"]), f"OTM type \"{otm_type}\" is not in our table: taken as the fallback kind"


def _ids(document: Any, key: str) -> list[tuple[tuple[Any, ...], str]]:
    return [((key, index, "id"), str(item.get("id"))) for index, item in enumerate(document.get(key) or [])
            if isinstance(item, dict)]


def import_otm(path: Path) -> Draft:
    name = str(path)
    document = load_mapping(path, name)
    if not isinstance(document.get("project"), dict) or "otmVersion" not in document:
        raise InputError([Diagnostic(Location(name, 1, 1), "not an OTM file: 'otmVersion' and 'project' are required")])
    otm = check(Otm, document, name)
    raise_if(duplicates(document, name, _ids(document, "trustZones"), "trust zone")
             + duplicates(document, name, _ids(document, "components"), "component")
             + duplicates(document, name, _ids(document, "dataflows"), "dataflow")
             + duplicates(document, name, _ids(document, "assets"), "asset")
             + duplicates(document, name, _ids(document, "threats"), "threat"))
    ours = str(otm.project.attributes.get("generator", "")).startswith("threatmodel")
    problems: list[Diagnostic] = []
    table = interop_table("otm")
    draft = Draft("otm", name, {"name": otm.project.name or "Imported from OTM",
                                "description": otm.project.description or "", "owner": otm.project.owner or ""})
    ids = IdMaker()
    zones: dict[str, str | None] = {}  # OTM zone id -> our boundary id (None: outside)
    for zone in otm.trustZones:
        if _is_internet(zone):
            zones[zone.id] = None
            continue
        trust, why = _trust(zone.risk.trustRating if zone.risk else None)
        our_id = ids.make(zone.id, zone.name or "", "zone")
        zones[zone.id] = our_id
        entity = Entity({"id": our_id, "name": zone.name or our_id, "trust": trust}, {"trust": why})
        if zone.parent and zone.parent.trustZone:
            entity.values["parent"] = zone.parent.trustZone  # resolved below
        if zone.description:
            entity.values["description"] = zone.description
        draft.boundaries.append(entity)
    for boundary in draft.boundaries:
        if "parent" in boundary.values:
            parent = zones.get(boundary.values["parent"])
            if parent is None:
                del boundary.values["parent"]
            else:
                boundary.values["parent"] = parent
    asset_ids: dict[str, str] = {}
    for asset in otm.assets:
        asset_ids[asset.id] = ids.make(asset.id, asset.name or "", "asset")
        values: dict[str, Any] = {"id": asset_ids[asset.id], "name": asset.name or ""}
        if asset.description:
            values["description"] = asset.description
        notes = {}
        for key in ("confidentiality", "integrity", "availability"):
            score = getattr(asset.risk, key) if asset.risk else None
            if score is not None:
                values[key] = "high" if score >= 67 else "medium" if score >= 34 else "low"
                notes[key] = f"from {key} {score:g} on OTM's 0-100 scale"
        for key, value in asset.attributes.items():  # what our export writes beyond the scale (pii)
            if key in ("pii", "confidentiality"):
                values[key] = value
                notes.pop(key, None)
        draft.data.append(Entity(values, notes))
    component_ids = {c.id: ids.make(c.id, c.name or "", "component") for c in otm.components}
    for index, component in enumerate(otm.components):
        kind_tag = next((t[len(KIND_TAG):] for t in component.tags if t.startswith(KIND_TAG)), None)
        entity = Entity({"id": component_ids[component.id], "name": component.name or component.id})
        if kind_tag:
            entity.values["kind"] = kind_tag
        else:
            entity.values["kind"], entity.notes["kind"] = _kind(component.type or "", table)
        parent = component.parent
        if parent is not None and parent.trustZone is not None:
            zone = zones.get(parent.trustZone, "missing")
            if zone == "missing":
                problems.append(Diagnostic(locate(document, ("components", index, "parent", "trustZone"))
                                           or Location(name), f"unknown trust zone '{parent.trustZone}'"))
            elif zone is not None:
                entity.values["boundary"] = zone
        elif parent is not None and parent.component is not None:
            if parent.component not in component_ids:  # real exporters leave these: said, not refused
                draft.lost.append(f"component {entity.id} is hosted in '{parent.component}', which is no component "
                                  "of the file: it keeps no boundary")
            else:
                host_zone = _host_zone(otm, component.id)
                zone = zones.get(host_zone) if host_zone else None
                if zone is not None:
                    entity.values["boundary"] = zone
                entity.notes["boundary" if zone else "name"] = (
                    f"hosted in {component_ids[parent.component]}: takes the zone it sits in" if zone else
                    f"hosted in {component_ids[parent.component]}, which is outside every boundary")
        if component.description:
            entity.values["description"] = component.description
        for key, value in component.attributes.items():
            if str(key) not in STRUCTURE:
                entity.values[str(key)] = value  # anything not ours is listed by settle(), never written
        other_tags = [t for t in component.tags if not t.startswith(KIND_TAG)]
        if other_tags:
            entity.values["tags"] = sorted(set(entity.values.get("tags") or []) | set(other_tags))
        stored = [asset_ids[a] for a in (component.assets.stored if component.assets else []) if a in asset_ids]
        processed = [asset_ids[a] for a in (component.assets.processed if component.assets else []) if a in asset_ids]
        if stored or processed:
            entity.values["data"] = sorted(set(stored) | set(processed))
        draft.components.append(entity)
        _instances(draft, otm, component.threats, entity.id, ours)
    for index, flow in enumerate(otm.dataflows):
        for end, key in ((flow.source, "source"), (flow.destination, "destination")):
            if end not in component_ids:
                problems.append(Diagnostic(locate(document, ("dataflows", index, key)) or Location(name),
                                           f"dataflow '{flow.id}' names unknown component '{end}'"))
        if flow.source not in component_ids or flow.destination not in component_ids:
            continue
        attributes = flow.attributes
        our_id = ids.make(str(attributes.get("threatmodel-id") or flow.id), flow.name or "", "flow")
        entity = Entity({"id": our_id, "from": component_ids[flow.source], "to": component_ids[flow.destination],
                         "name": flow.name or ""})
        if flow.bidirectional is True:
            entity.values["bidirectional"] = True
        if flow.description:
            entity.values["description"] = flow.description
        for key in ("protocol", "encrypted", "authenticated"):
            if key in attributes:
                entity.values[key] = attributes[key]
        carried = [asset_ids[a] for a in flow.assets if a in asset_ids]
        if carried:
            entity.values["data"] = carried
        if flow.tags:
            draft.lost.append(f"dataflow {our_id}: tags {', '.join(flow.tags)} (our flows have no tags)")
        draft.flows.append(entity)
        _instances(draft, otm, flow.threats, our_id, ours)
    list_dangling(draft, problems)
    if otm.representations and not ours:
        draft.lost.append(f"{len(otm.representations)} representations (diagram positions): our report draws its own")
    return draft


def _host_zone(otm: Otm, component_id: str) -> str | None:
    """The trust zone a hosted component sits in: its host's, up the chain of hosts."""
    parents = {c.id: c.parent for c in otm.components}
    seen: set[str] = set()
    current: str | None = component_id
    while current is not None and current not in seen:
        seen.add(current)
        parent = parents.get(current)
        if parent is None:
            return None
        if parent.trustZone is not None:
            return parent.trustZone
        current = parent.component
    return None


def _instances(draft: Draft, otm: Otm, instances: list[Instance], ours: str, from_us: bool) -> None:
    catalogue = {t.id: t for t in otm.threats}
    mitigations = {m.id: m for m in otm.mitigations}
    for instance in instances:
        threat = catalogue.get(instance.threat)
        title = (threat.name if threat else None) or instance.threat
        status = status_of(instance.attributes.get("threatmodel-status") or instance.state)
        if status is None:
            draft.lost.append(f"threat '{title}' on {ours}: unknown state '{instance.state}', taken as open")
            status = "open"
        applied = [str((mitigations.get(m.mitigation or "") and mitigations[m.mitigation or ""].name) or m.mitigation)
                   for m in instance.mitigations if m.mitigation]
        justification = instance.attributes.get("justification")
        note = str(justification) if justification else "; ".join(applied)
        states = tuple((m.mitigation, m.state) for m in instance.mitigations
                       if from_us and m.mitigation and m.state in REVIEW_STATES)
        draft.threats.append(SourceThreat(ours, title, stride_letters(threat.categories if threat else []), status,
                                          note, instance.threat, (threat.description or "") if threat else "",
                                          tuple(threat.cwes) if threat else (), states))
